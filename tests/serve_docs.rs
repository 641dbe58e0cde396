//! The example responses of docs/serve.md are real: every `$ curl ...` line
//! of its ```console blocks is sent to a `wpc serve` of the release-demo
//! repository, and what it answers must match the lines under it (`[..]`
//! stands for any text: times, commit ids, signatures).
//!
//! Regenerate after a change: `SERVE_DOCS=overwrite cargo test --test serve_docs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};

const KEY: &str = "l5qSjGgdbSkNgbPETkEJSDlw09nrMgBeu4lBm8VPv6s";

/// One `curl -s [-X METHOD] [-d 'BODY'] URL` line, sent as curl would.
fn curl(addr: SocketAddr, line: &str) -> String {
    let words = line.trim_start_matches("$ curl -s ");
    let (method, rest) = match words.strip_prefix("-X ") {
        Some(rest) => rest.split_once(' ').unwrap(),
        None => ("GET", words),
    };
    let (body, url) = match rest.strip_prefix("-d '") {
        Some(rest) => {
            let end = rest.rfind("' ").unwrap();
            (Some(&rest[..end]), &rest[end + 2..])
        }
        None => (None, rest),
    };
    let path = &url[url.find("/v1").or_else(|| url.find("/health")).unwrap()..];
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    match body {
        Some(body) => raw.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )),
        None => raw.push_str("\r\n"),
    }
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(raw.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    text.split_once("\r\n\r\n").unwrap().1.to_owned()
}

/// `expected` with `[..]` matching any text within a line.
fn matches(expected: &str, actual: &str) -> bool {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    e.len() == a.len()
        && e.iter().zip(&a).all(|(e, a)| {
            let parts: Vec<&str> = e.split("[..]").collect();
            let mut rest = *a;
            for (i, part) in parts.iter().enumerate() {
                if i == 0 {
                    let Some(r) = rest.strip_prefix(part) else {
                        return false;
                    };
                    rest = r;
                } else if i == parts.len() - 1 {
                    return rest.ends_with(part);
                } else {
                    let Some(at) = rest.find(part) else {
                        return false;
                    };
                    rest = &rest[at + part.len()..];
                }
            }
            rest.is_empty()
        })
}

/// What a regeneration writes: run-dependent parts become `[..]`.
fn elide(text: &str) -> String {
    let mut out = String::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            .count();
        let time = bytes.len() - i >= 20
            && bytes[i..i + 20]
                .iter()
                .zip(b"dddd-dd-ddTdd:dd:ddZ")
                .all(|(c, s)| {
                    if *s == b'd' {
                        c.is_ascii_digit()
                    } else {
                        c == s
                    }
                });
        if hex == 40 {
            out.push_str("[..]");
            i += 40;
        } else if time {
            out.push_str("[..]");
            i += 20;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    let marker = "\"signature_b64u\": \"";
    out.lines()
        .map(|line| match line.find(marker) {
            Some(at) => format!("{}[..]\",", &line[..at + marker.len()]),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_examples_of_docs_serve_md_are_what_the_server_answers() {
    let dir = tempfile::tempdir().unwrap();
    support::copy_dir(
        &support::root().join("docs/commands/release-demo"),
        dir.path(),
    );
    support::git(dir.path(), &["init", "-q", "-b", "main"]);
    support::git(dir.path(), &["add", "."]);
    support::git(
        dir.path(),
        &["commit", "-q", "-m", "agent-change-reviewer: first version"],
    );
    let out = support::wpc(dir.path())
        .arg("release")
        .env("WPC_SIGNING_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    let mut child = Command::new(env!("CARGO_BIN_EXE_wpc"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let event: serde_json::Value = serde_json::from_str(&first).unwrap();
    let addr: SocketAddr = event["addr"].as_str().unwrap().parse().unwrap();

    let page_path = support::root().join("docs/serve.md");
    let page = std::fs::read_to_string(&page_path).unwrap();
    let overwrite = std::env::var_os("SERVE_DOCS").is_some_and(|v| v == "overwrite");
    let mut rewritten = String::new();
    let mut failures = Vec::new();
    let mut lines = page.split_inclusive('\n').peekable();
    let mut in_console = false;
    let mut examples = 0;
    while let Some(line) = lines.next() {
        rewritten.push_str(line);
        if line.starts_with("```") {
            in_console = !in_console && line.trim() == "```console";
            continue;
        }
        if !(in_console && line.starts_with("$ curl -s ")) {
            continue;
        }
        examples += 1;
        let mut expected = String::new();
        while let Some(next) = lines.peek() {
            if next.starts_with("$ ") || next.starts_with("```") || next.trim().is_empty() {
                break;
            }
            expected.push_str(next);
            lines.next();
        }
        let actual = curl(addr, line.trim_end());
        if overwrite {
            rewritten.push_str(&elide(&actual));
            rewritten.push('\n');
        } else if !matches(expected.trim_end(), actual.trim_end()) {
            failures.push(format!("{}expected:\n{expected}actual:\n{actual}\n", line));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        examples >= 6,
        "docs/serve.md has too few examples ({examples})"
    );
    if overwrite {
        std::fs::write(&page_path, rewritten).unwrap();
    }
    assert!(
        failures.is_empty(),
        "docs/serve.md differs (SERVE_DOCS=overwrite cargo test --test serve_docs):\n{}",
        failures.join("\n")
    );
}
