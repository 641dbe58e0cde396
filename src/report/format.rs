//! The one `--format` vocabulary of every command, the one `--fail-on`
//! setting, and the envelope every JSON output starts with.
//!
//! Each command accepts the subset of [`Format`] it can render, through
//! [`Formats`] as its clap value parser: `--help` lists exactly those, and
//! any other value is a usage error (exit 2) before anything runs. A
//! renderer given a format it does not have answers [`Unsupported`].

use clap::builder::{PossibleValue, TypedValueParser};
use serde::Serialize;
use thiserror::Error;

use super::Severity;

/// An output format, named the same by every command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "lowercase")]
pub enum Format {
    Text,
    Json,
    Sarif,
    Github,
    Junit,
    Markdown,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Text,
        Format::Json,
        Format::Sarif,
        Format::Github,
        Format::Junit,
        Format::Markdown,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// One line for `--help`: the same for every command.
    fn help(self) -> &'static str {
        match self {
            Format::Text => "for people",
            Format::Json => "a JSON document with `format` and `version`",
            Format::Sarif => "SARIF 2.1.0, for code scanning",
            Format::Github => "GitHub Actions workflow commands (annotations)",
            Format::Junit => "JUnit XML, for CI test reports",
            Format::Markdown => "for a pull-request comment or job summary",
        }
    }
}

/// The formats one command renders, and the clap value parser of its
/// `--format`.
#[derive(Clone, Copy, Debug)]
pub struct Formats(pub &'static [Format]);

impl Formats {
    pub fn contains(self, format: Format) -> bool {
        self.0.contains(&format)
    }
}

impl TypedValueParser for Formats {
    type Value = Format;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Format, clap::Error> {
        // Clap's own parser gives the usual error, listing the values.
        let names = self.0.iter().map(|f| f.name());
        let name = clap::builder::PossibleValuesParser::new(names).parse_ref(cmd, arg, value)?;
        self.0
            .iter()
            .copied()
            .find(|f| f.name() == name)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            self.0
                .iter()
                .map(|f| PossibleValue::new(f.name()).help(f.help())),
        ))
    }
}

/// A renderer was asked for a format it does not have.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[error("{output} has no `{format}` format")]
pub struct Unsupported {
    pub format: Format,
    /// What was to be rendered (`a diff`, `a test run`).
    pub output: &'static str,
}

/// The lowest severity that fails a command (`--fail-on`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    #[default]
    Error,
    Warning,
}

impl FailOn {
    pub fn threshold(self) -> Severity {
        match self {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
        }
    }
}

/// The first two keys of every JSON output: which document it is
/// (`wpc-diff`) and the version of its shape. The version changes only
/// when a key is removed or changes meaning; keys may be added within one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Envelope {
    pub format: &'static str,
    pub version: u32,
}

impl Envelope {
    pub const fn new(format: &'static str, version: u32) -> Self {
        Envelope { format, version }
    }

    /// `{"format": …, "version": …}` followed by the keys of `body` (an
    /// object; anything else is kept under `"value"`).
    pub fn wrap(self, body: serde_json::Value) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        out.insert("format".to_owned(), self.format.into());
        out.insert("version".to_owned(), self.version.into());
        match body {
            serde_json::Value::Object(map) => out.extend(map),
            other => {
                out.insert("value".to_owned(), other);
            }
        }
        serde_json::Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command() -> clap::Command {
        clap::Command::new("t").arg(
            clap::Arg::new("format")
                .long("format")
                .value_parser(Formats(&[Format::Text, Format::Json])),
        )
    }

    #[test]
    fn a_format_of_the_set_parses() {
        let matches = command()
            .try_get_matches_from(["t", "--format", "json"])
            .unwrap();
        assert_eq!(matches.get_one::<Format>("format"), Some(&Format::Json));
    }

    #[test]
    fn a_format_outside_the_set_is_a_usage_error_listing_the_set() {
        let err = command()
            .try_get_matches_from(["t", "--format", "sarif"])
            .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
        let text = err.to_string();
        assert!(text.contains("text") && text.contains("json"), "{text}");
    }

    #[test]
    fn the_envelope_comes_first() {
        let doc = Envelope::new("wpc-x", 1).wrap(serde_json::json!({"a": 1}));
        assert_eq!(
            serde_json::to_string(&doc).unwrap(),
            r#"{"format":"wpc-x","version":1,"a":1}"#
        );
    }
}
