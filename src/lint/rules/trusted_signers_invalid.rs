use super::TrustedSignersInvalid;
use crate::crypto::trusted::{DEFAULT_PATH, TrustedSigners};
use crate::lint::{Context, Repository, Rule};

impl Rule for TrustedSignersInvalid {
    fn check_repository(&self, repo: &Repository, cx: &mut Context<'_>) {
        let path = repo.root.join(DEFAULT_PATH);
        if !path.is_file() {
            return;
        }
        if let Err(err) = TrustedSigners::load(&path) {
            for finding in err.findings {
                cx.push(finding);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LintSettings;
    use crate::report::Described;

    fn run(text: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("keys")).unwrap();
        std::fs::write(dir.path().join(DEFAULT_PATH), text).unwrap();
        let repo = Repository {
            root: dir.path().to_path_buf(),
            files: Vec::new(),
        };
        let settings = LintSettings::default();
        let mut cx = Context::new(&settings, TrustedSignersInvalid.meta());
        TrustedSignersInvalid.check_repository(&repo, &mut cx);
        cx.findings
            .iter()
            .map(|f| format!("{} {}", f.code, f.message))
            .collect()
    }

    #[test]
    fn fires_for_bad_and_repeated_dids() {
        let did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
        let found = run(&format!(
            "[[gateway_signer]]\ndid = \"did:key:z6Mk0\"\n[[gateway_signer]]\ndid = \"{did}\"\n[[gateway_signer]]\ndid = \"{did}\"\n"
        ));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().all(|f| f.starts_with("WPC019")));
    }

    #[test]
    fn quiet_for_a_valid_file() {
        let did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
        assert!(
            run(&format!(
                "[[release_signer]]\ndid = \"{did}\"\nname = \"ci\"\n"
            ))
            .is_empty()
        );
    }
}
