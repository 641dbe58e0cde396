use super::{DangerousBindMount, binds};
use crate::openclaw::{Context, Rule};

impl Rule for DangerousBindMount {
    fn check(&self, cx: &mut Context<'_>) {
        for (path, node, source, _) in binds(cx) {
            if let Some((blocked, how)) = blocked(&source) {
                cx.report(node, format!("{path}.binds mounts `{source}`, which {how} blocked path `{blocked}`: the sandbox can reach host system directories, the Docker socket or credentials"))
                    .help = Some("remove the bind; mount project-specific paths only".into());
            }
        }
    }
}

/// Paths the runtime refuses to bind, in the order OpenClaw checks them.
const BLOCKED: &[&str] = &[
    "/etc",
    "/private/etc",
    "/proc",
    "/sys",
    "/dev",
    "/root",
    "/boot",
    "/run",
    "/var/run",
    "/private/var/run",
    "/var/run/docker.sock",
    "/private/var/run/docker.sock",
    "/run/docker.sock",
];
/// Secrets under every home folder.
const HOME_SECRETS: &[&str] = &[
    ".aws", ".cargo", ".config", ".docker", ".gnupg", ".netrc", ".npm", ".ssh",
];

/// Lexically normalised absolute path (`.`/`..`/`//` resolved), or `None`.
fn normalize(source: &str) -> Option<Vec<&str>> {
    let mut parts: Vec<&str> = Vec::new();
    for part in source.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    Some(parts)
}

/// The blocked path a bind source hits, and whether it `targets` (is inside)
/// or `covers` (is an ancestor of) it.
fn blocked(source: &str) -> Option<(String, &'static str)> {
    let parts = normalize(source)?;
    let home_root = match parts.as_slice() {
        ["~", ..] if source.starts_with('~') => Some(1),
        ["home" | "Users", _, ..] if source.starts_with('/') => Some(2),
        _ => None,
    };
    if !source.starts_with('/') && home_root.is_none() {
        return None;
    }
    let joined = format!("/{}", parts.join("/"));
    if parts.is_empty() {
        return Some((
            "/".to_owned(),
            "is the root of the host, which covers every",
        ));
    }
    for blocked in BLOCKED {
        if joined == *blocked || joined.starts_with(&format!("{blocked}/")) {
            return Some(((*blocked).to_owned(), "targets"));
        }
        if blocked.starts_with(&format!("{joined}/")) {
            return Some(((*blocked).to_owned(), "covers"));
        }
    }
    if matches!(parts.as_slice(), ["home" | "Users"]) {
        return Some((format!("{joined}/*/.ssh"), "covers"));
    }
    let root = home_root?;
    let home = parts[..root].join("/");
    let home = if home.starts_with('~') {
        home
    } else {
        format!("/{home}")
    };
    match parts.get(root) {
        None => Some((format!("{home}/.ssh"), "covers")),
        Some(dir) if HOME_SECRETS.contains(dir) => Some((format!("{home}/{dir}"), "targets")),
        Some(_) => None,
    }
}

#[cfg(test)]
mod blocked_tests {
    use super::blocked;

    #[test]
    fn targets_and_covers() {
        assert_eq!(
            blocked("/var/run/docker.sock"),
            Some(("/var/run".into(), "targets"))
        );
        assert_eq!(blocked("/var"), Some(("/var/run".into(), "covers")));
        assert_eq!(
            blocked("/"),
            Some(("/".into(), "is the root of the host, which covers every"))
        );
        assert_eq!(blocked("/srv/../etc/x"), Some(("/etc".into(), "targets")));
        assert_eq!(
            blocked("~/.ssh/id_ed25519"),
            Some(("~/.ssh".into(), "targets"))
        );
        assert_eq!(
            blocked("/home/me"),
            Some(("/home/me/.ssh".into(), "covers"))
        );
        assert_eq!(blocked("/home"), Some(("/home/*/.ssh".into(), "covers")));
        assert_eq!(
            blocked("/Users/me/.aws"),
            Some(("/Users/me/.aws".into(), "targets"))
        );
        assert_eq!(blocked("/home/me/project"), None);
        assert_eq!(blocked("/srv/data"), None);
        assert_eq!(blocked("relative"), None);
    }
}

crate::openclaw::audit_tests! { DangerousBindMount;
    fires_on_the_docker_socket:
        "{agents: {defaults: {sandbox: {docker: {binds: ['/var/run/docker.sock:/var/run/docker.sock:ro']}}}}}" => (1, "targets blocked path `/var/run`"),
        "{agents: {entries: {a: {sandbox: {docker: {binds: ['/home/me/.ssh:/k']}}}}}}" => 1;
    quiet_on_project_paths: "{agents: {defaults: {sandbox: {docker: {binds: ['/srv/repo:/repo:ro']}}}}}" => 0;
}
