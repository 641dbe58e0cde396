//! `wpc test generate --from-bundles`: the tools recorded runs called,
//! written as policy test cases with the decision the policy gives them
//! now, so real traffic becomes regression tests.

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

use std::path::{Path, PathBuf};

use super::versions::Working;
use super::{CallKind, Recording, ReplayError};
use crate::config::Config;
use crate::decide::suite;
use crate::decide::{CompileError, Engine};
use crate::error::error_enum;
use crate::fsio::{self, ReadError, WriteError};
use crate::policy::Policy;
use crate::release::Freshness;
use crate::report::Output;

/// `name` of a case, at most (schema/wpc-test.v1.schema.json).
const MAX_NAME_CHARS: usize = 200;

/// Why no test file could be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("the existing test file does not parse as TOML: {0}")]
    Existing(#[from] toml_edit::TomlError),
    #[error("the existing test file's `case` is not an array of tables")]
    NotCases,
    #[error(transparent)]
    Compile(#[from] CompileError),
}

error_enum! {
    /// Why `wpc test generate` wrote nothing.
    pub enum IntoTestFileError {
        Replay(ReplayError),
        Write(WriteError),
        #[error("{} is not a valid policy: {first}", path.display())]
        InvalidPolicy { path: PathBuf, first: String },
        #[error("{0} is not a NAME.toml policy file")]
        NotAPolicyFile(PathBuf),
        #[error("cannot read {}", path.display())]
        ReadTests { path: PathBuf, source: ReadError },
        #[error("{}", path.display())]
        Cases {
            path: PathBuf,
            source: GenerateError,
        },
    }
}

/// `wpc test generate`: add to the test file of `policy_file` a case for
/// each tool the verified bundles `globs` match call (those that claim the
/// policy, by hash or a released or working version of its name), and say
/// how many.
pub fn into_test_file(
    policy_file: &Path,
    globs: &[String],
    config: &Config,
) -> Result<Output, IntoTestFileError> {
    let policy = super::command::load_policy(policy_file)
        .map_err(|(path, first)| IntoTestFileError::InvalidPolicy { path, first })?;
    let test_file = suite::test_path(policy_file)
        .ok_or_else(|| IntoTestFileError::NotAPolicyFile(policy_file.to_path_buf()))?;
    let versions = Working::new(config, &Freshness::default(), None)?;
    let read = super::read_globs(globs, config)?;
    let mut out = Output::default();
    if !read.gateway_signers_checked {
        out.note(super::UNCHECKED_GATEWAYS);
    }
    let (recordings, rejected) = (read.counted, read.rejected);
    let existing = match test_file.is_file() {
        true => Some(
            fsio::read_to_string(&test_file, fsio::TOML).map_err(|source| {
                IntoTestFileError::ReadTests {
                    path: test_file.clone(),
                    source,
                }
            })?,
        ),
        false => None,
    };
    let name = policy.name().to_owned();
    let of_policy = |recording: &Recording| {
        recording.claimed.as_deref().is_some_and(|hash| {
            hash == policy.hash || versions.resolve(hash).is_ok_and(|pair| pair.policy == name)
        })
    };
    let generated =
        cases(&policy, &recordings, of_policy, existing.as_deref()).map_err(|source| {
            IntoTestFileError::Cases {
                path: test_file.clone(),
                source,
            }
        })?;
    if generated.added > 0 {
        fsio::write_atomically(&test_file, &generated.text)?;
    }
    out.stdout = format!(
        "{}: {} case(s) added from {} verified bundle(s); {} bundle(s) rejected\n",
        test_file.display(),
        generated.added,
        recordings.len(),
        rejected.len()
    );
    Ok(out)
}

/// The test file with the new cases, and how many were added.
#[derive(Debug)]
pub struct Generated {
    pub text: String,
    pub added: usize,
}

/// Add a case for each distinct tool that `recordings` call (first seen
/// first) and no case of `existing` tests yet, expecting what `policy`
/// decides now. Only recordings `of_policy` says ran under `policy` count.
pub fn cases(
    policy: &Policy,
    recordings: &[Recording],
    of_policy: impl Fn(&Recording) -> bool,
    existing: Option<&str>,
) -> Result<Generated, GenerateError> {
    let mut doc: DocumentMut = existing.unwrap_or_default().parse()?;
    let tested: Vec<String> = match doc.get("case") {
        None => Vec::new(),
        Some(item) => item
            .as_array_of_tables()
            .ok_or(GenerateError::NotCases)?
            .iter()
            .filter_map(|case| case.get("tool").and_then(Item::as_str).map(str::to_owned))
            .collect(),
    };
    // Each untested tool and the run that first called it, in the order
    // first seen.
    let mut recorded: Vec<(String, String)> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for recording in recordings.iter().filter(|r| of_policy(r)) {
        for call in recording.calls.iter().filter(|c| c.kind == CallKind::Tool) {
            if call.subject.is_empty() || seen.contains(&call.subject) {
                continue;
            }
            seen.push(call.subject.clone());
            if !tested.contains(&call.subject) {
                recorded.push((call.subject.clone(), recording.run_id.clone()));
            }
        }
    }
    let engine = Engine::new(&policy.wpc)?;
    let mut new_cases = ArrayOfTables::new();
    for (tool, run_id) in &recorded {
        let decision = engine.decide_per_call(&crate::decide::Call::tool(tool.as_str()));
        let mut case = Table::new();
        // The test file schema caps names at 200 characters.
        let name: String = format!("recorded: {tool} (run {run_id})")
            .chars()
            .take(MAX_NAME_CHARS)
            .collect();
        case.insert("name", value(name));
        case.insert("tool", value(tool.as_str()));
        case.insert("expect", value(decision.verdict.as_str()));
        new_cases.push(case);
    }
    let added = new_cases.len();
    match doc.get_mut("case").and_then(Item::as_array_of_tables_mut) {
        Some(cases) => cases.extend(new_cases),
        None => {
            doc.insert("case", Item::ArrayOfTables(new_cases));
        }
    }
    Ok(Generated {
        text: doc.to_string(),
        added,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::Call;
    use crate::policy::Document;
    use crate::replay::RecordedCall;
    use crate::report::SourceFile;

    fn policy() -> Policy {
        let text = "wpc_version = \"1\"\npolicy_name = \"p\"\npurpose = \"x\"\n\
             [constraints.tool_policy]\nallow = [\"read\", \"deploy.*\"]\ndeny = [\"exec\"]\n\
             [constraints.sandbox]\nrequired = true\nworkspaceAccess = \"ro\"\n\
             elevated_exec = \"deny\"\n\
             [[constraints.approvals]]\nwhen = \"tool == 'deploy.prod'\"\nrequire = \"human_approval\"\n\
             [binding]\ncst_scope_hash_required = false\n";
        Policy::from_document(Document::parse(SourceFile::new("p.toml", text)).unwrap()).unwrap()
    }

    fn recording(run: &str, tools: &[&str]) -> Recording {
        Recording {
            path: format!("{run}.json").into(),
            run_id: run.into(),
            claimed: None,
            calls: tools
                .iter()
                .map(|tool| RecordedCall {
                    kind: CallKind::Tool,
                    event: "e".into(),
                    subject: (*tool).into(),
                    call: Call::tool(*tool),
                })
                .collect(),
        }
    }

    #[test]
    fn each_new_tool_becomes_a_case_with_todays_verdict() {
        let existing =
            "# kept as written\n[[case]]\nname = \"reads\"\ntool = \"read\"\nexpect = \"allow\"\n";
        let recordings = [
            recording("run_1", &["read", "deploy.prod", "exec"]),
            recording("run_2", &["deploy.prod", "unknown"]),
            recording("other", &["deploy.staging"]),
        ];
        let generated = cases(
            &policy(),
            &recordings,
            |r| r.run_id != "other",
            Some(existing),
        )
        .unwrap();
        assert_eq!(generated.added, 3);
        assert!(generated.text.starts_with(existing), "{}", generated.text);
        let doc: toml::Value = toml::from_str(&generated.text).unwrap();
        let cases: Vec<(&str, &str)> = doc["case"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["tool"].as_str().unwrap(), c["expect"].as_str().unwrap()))
            .collect();
        assert_eq!(
            cases,
            [
                ("read", "allow"),
                ("deploy.prod", "approval"),
                ("exec", "deny"),
                ("unknown", "deny"),
            ]
        );
    }

    #[test]
    fn a_broken_existing_file_is_an_error_not_overwritten() {
        let recordings = [recording("run_1", &["read"])];
        assert!(cases(&policy(), &recordings, |_| true, Some("[[case]\n")).is_err());
        assert!(matches!(
            cases(&policy(), &recordings, |_| true, Some("case = 1\n")),
            Err(GenerateError::NotCases)
        ));
    }
}
