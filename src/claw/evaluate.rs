//! The protocol's WPC v2 evaluation, as its reference evaluator does it:
//! a statement matches when one of its actions and one of its resources
//! glob-match and every condition passes; any matching Deny denies, else
//! any matching Allow allows, else the default is deny. This is what the
//! export's soundness is measured against (docs/claw.md).
//!
//! The protocol's glob: a pattern that is exactly `*` or `**` matches
//! anything; otherwise `**` matches any run of characters except line
//! ends (and swallows a `/` right after it), `*` any run without `/`, `?` one
//! character other than `/`; everything else is literal and case matters.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// The verdict and the statements that made it (empty for the default deny).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    pub effect: Effect,
    pub matched: Vec<String>,
}

/// Why a payload cannot be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    #[error("not a WPC v2 payload: {0}")]
    Shape(&'static str),
    #[error("pattern `{pattern}` does not compile: {source}")]
    Pattern {
        pattern: String,
        source: regex::Error,
    },
}

/// A v2 payload compiled for evaluation.
#[derive(Debug)]
pub struct Evaluator {
    statements: Vec<Statement>,
}

#[derive(Debug)]
struct Statement {
    sid: String,
    effect: Effect,
    actions: Vec<Glob>,
    resources: Vec<Glob>,
    conditions: Vec<Condition>,
}

#[derive(Debug)]
enum Condition {
    /// An operator whose value is not an object is skipped by the
    /// reference; an operator it does not know fails.
    Unknown,
    Test {
        operator: Operator,
        key: String,
        expected: String,
        glob: Option<Glob>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    StringEquals,
    StringNotEquals,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericLessThan,
    NumericGreaterThan,
    Bool,
    IpAddress,
}

impl Evaluator {
    pub fn new(payload: &Value) -> Result<Evaluator, EvaluateError> {
        if payload.get("policy_version").and_then(Value::as_str) != Some("2") {
            return Err(EvaluateError::Shape("`policy_version` is not \"2\""));
        }
        let list = payload
            .get("statements")
            .and_then(Value::as_array)
            .ok_or(EvaluateError::Shape("no `statements` array"))?;
        let statements = list.iter().map(Statement::new).collect::<Result<_, _>>()?;
        Ok(Evaluator { statements })
    }

    pub fn evaluate(
        &self,
        action: &str,
        resource: &str,
        context: &BTreeMap<String, String>,
    ) -> Evaluation {
        let matching = |effect| -> Vec<String> {
            self.statements
                .iter()
                .filter(|s| s.effect == effect && s.matches(action, resource, context))
                .map(|s| s.sid.clone())
                .collect()
        };
        let denied = matching(Effect::Deny);
        if !denied.is_empty() {
            return Evaluation {
                effect: Effect::Deny,
                matched: denied,
            };
        }
        let allowed = matching(Effect::Allow);
        if allowed.is_empty() {
            Evaluation {
                effect: Effect::Deny,
                matched: Vec::new(),
            }
        } else {
            Evaluation {
                effect: Effect::Allow,
                matched: allowed,
            }
        }
    }
}

impl Statement {
    fn new(value: &Value) -> Result<Statement, EvaluateError> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default();
        let globs = |key: &str| -> Result<Vec<Glob>, EvaluateError> {
            value
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(Glob::new)
                .collect()
        };
        let effect = match text("effect") {
            "Allow" => Effect::Allow,
            "Deny" => Effect::Deny,
            _ => {
                return Err(EvaluateError::Shape(
                    "a statement's `effect` is not Allow or Deny",
                ));
            }
        };
        let mut conditions = Vec::new();
        if let Some(operators) = value.get("conditions").and_then(Value::as_object) {
            for (name, map) in operators {
                let Some(map) = map.as_object() else {
                    continue;
                };
                let Some(operator) = Operator::from_name(name) else {
                    conditions.push(Condition::Unknown);
                    continue;
                };
                for (key, expected) in map {
                    let expected = expected.as_str().unwrap_or_default().to_owned();
                    let glob = match operator {
                        Operator::StringLike | Operator::StringNotLike => {
                            Some(Glob::new(&expected)?)
                        }
                        _ => None,
                    };
                    conditions.push(Condition::Test {
                        operator,
                        key: key.clone(),
                        expected,
                        glob,
                    });
                }
            }
        }
        Ok(Statement {
            sid: text("sid").to_owned(),
            effect,
            actions: globs("actions")?,
            resources: globs("resources")?,
            conditions,
        })
    }

    fn matches(&self, action: &str, resource: &str, context: &BTreeMap<String, String>) -> bool {
        self.actions.iter().any(|g| g.is_match(action))
            && self.resources.iter().any(|g| g.is_match(resource))
            && self.conditions.iter().all(|c| c.passes(context))
    }
}

impl Operator {
    fn from_name(name: &str) -> Option<Operator> {
        Some(match name {
            "StringEquals" => Operator::StringEquals,
            "StringNotEquals" => Operator::StringNotEquals,
            "StringLike" => Operator::StringLike,
            "StringNotLike" => Operator::StringNotLike,
            "NumericEquals" => Operator::NumericEquals,
            "NumericLessThan" => Operator::NumericLessThan,
            "NumericGreaterThan" => Operator::NumericGreaterThan,
            "Bool" => Operator::Bool,
            "IpAddress" => Operator::IpAddress,
            _ => return None,
        })
    }
}

impl Condition {
    fn passes(&self, context: &BTreeMap<String, String>) -> bool {
        let Condition::Test {
            operator,
            key,
            expected,
            glob,
        } = self
        else {
            return false;
        };
        let Some(actual) = context.get(key) else {
            // The negative operators pass on a missing key; all others fail.
            return matches!(
                operator,
                Operator::StringNotEquals | Operator::StringNotLike
            );
        };
        let like = || glob.as_ref().is_some_and(|g| g.is_match(actual));
        match operator {
            Operator::StringEquals => actual == expected,
            Operator::StringNotEquals => actual != expected,
            Operator::StringLike => like(),
            Operator::StringNotLike => !like(),
            Operator::NumericEquals => parse_float(actual) == parse_float(expected),
            Operator::NumericLessThan => parse_float(actual) < parse_float(expected),
            Operator::NumericGreaterThan => parse_float(actual) > parse_float(expected),
            Operator::Bool => {
                actual.eq_ignore_ascii_case("true") == expected.eq_ignore_ascii_case("true")
            }
            Operator::IpAddress => in_cidr(actual, expected),
        }
    }
}

/// JavaScript's `parseFloat`: the longest numeric prefix after leading
/// white space, NaN (which compares false with everything) when there is
/// none.
fn parse_float(text: &str) -> f64 {
    let text = text.trim_start();
    let bytes = text.as_bytes();
    let mut end = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    if text[end..].starts_with("Infinity") {
        return if text.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let whole = digits(end);
    end += whole;
    let mut fraction = 0;
    if bytes.get(end) == Some(&b'.') {
        fraction = digits(end + 1);
        if whole + fraction > 0 {
            end += 1 + fraction;
        }
    }
    if whole + fraction == 0 {
        return f64::NAN;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut exp = end + 1;
        if matches!(bytes.get(exp), Some(b'+' | b'-')) {
            exp += 1;
        }
        let exp_digits = digits(exp);
        if exp_digits > 0 {
            end = exp + exp_digits;
        }
    }
    text[..end].parse().unwrap_or(f64::NAN)
}

/// IPv4 only; a missing prefix is /32; octets read with `parseInt`.
fn in_cidr(actual: &str, cidr: &str) -> bool {
    let (network, prefix) = match cidr.split_once('/') {
        Some((network, prefix)) => match prefix.parse::<u32>() {
            Ok(p) if p <= 32 => (network, p),
            _ => return false,
        },
        None => (cidr, 32),
    };
    let (Some(ip), Some(net)) = (ipv4(actual), ipv4(network)) else {
        return false;
    };
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    ip & mask == net & mask
}

fn ipv4(text: &str) -> Option<u32> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut ip = 0u32;
    for part in parts {
        let digits: String = part
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let octet: u32 = digits.parse().ok().filter(|o| *o <= 255)?;
        ip = (ip << 8) | octet;
    }
    Some(ip)
}

/// One protocol glob, compiled.
#[derive(Debug)]
struct Glob(Option<Regex>);

impl Glob {
    fn new(pattern: &str) -> Result<Glob, EvaluateError> {
        if pattern == "*" || pattern == "**" {
            return Ok(Glob(None));
        }
        let mut re = String::from("^");
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    // JavaScript's `.`: anything but a line terminator.
                    re.push_str("[^\n\r\u{2028}\u{2029}]*");
                    if chars.peek() == Some(&'/') {
                        chars.next();
                    }
                }
                '*' => re.push_str("[^/]*"),
                '?' => re.push_str("[^/]"),
                other => re.push_str(&regex::escape(other.encode_utf8(&mut [0; 4]))),
            }
        }
        re.push('$');
        Regex::new(&re)
            .map(|r| Glob(Some(r)))
            .map_err(|source| EvaluateError::Pattern {
                pattern: pattern.to_owned(),
                source,
            })
    }

    fn is_match(&self, text: &str) -> bool {
        self.0.as_ref().is_none_or(|re| re.is_match(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn glob(pattern: &str, text: &str) -> bool {
        Glob::new(pattern).unwrap().is_match(text)
    }

    /// The glob cases the protocol's notes checked against its evaluator.
    #[test]
    fn glob_semantics() {
        assert!(glob("src/**/*.ts", "src/a.ts"));
        assert!(glob("src/**/*.ts", "src/x/y/a.ts"));
        assert!(!glob("src/**", "src"));
        assert!(glob("src/**", "src/"));
        assert!(glob("**/secrets/**", "mysecrets/x"));
        assert!(!glob("*.internal", "a/b.internal"));
        assert!(!glob("tool:*", "tool:a/b"));
        assert!(glob("**/.env*", ".env"));
        assert!(glob("**/.env*", "app/.env.local"));
        assert!(!glob("a**", "a\nb"));
        assert!(glob("*", "a\nb/c"));
        assert!(glob("a*", "a\nb"));
        assert!(!glob("Claude-*", "claude-x"));
        assert!(glob("a.[b]", "a.[b]"));
    }

    /// Worked examples A and B of the protocol's notes.
    #[test]
    fn deny_wins_default_deny_and_conditions() {
        let a = Evaluator::new(&json!({"policy_version": "2", "statements": [
            {"sid": "DenyAllExternalNetwork", "effect": "Deny", "actions": ["side_effect:network_egress"], "resources": ["*"]},
            {"sid": "AllowInternalNetwork", "effect": "Allow", "actions": ["side_effect:network_egress"], "resources": ["*"],
             "conditions": {"StringLike": {"SideEffect:TargetDomain": "*.internal"}}}
        ]}))
        .unwrap();
        let verdict = a.evaluate(
            "side_effect:network_egress",
            "https://api.corp.internal/x",
            &context(&[("SideEffect:TargetDomain", "api.corp.internal")]),
        );
        assert_eq!(verdict.effect, Effect::Deny);
        assert_eq!(verdict.matched, ["DenyAllExternalNetwork"]);

        let b = Evaluator::new(&json!({"policy_version": "2", "statements": [
            {"sid": "AllowModels", "effect": "Allow", "actions": ["model:invoke"], "resources": ["*"],
             "conditions": {"StringEquals": {"Model:Provider": "anthropic"}, "StringLike": {"Model:Name": "claude-*"}}},
            {"sid": "DenyNight", "effect": "Deny", "actions": ["tool:*"], "resources": ["*"],
             "conditions": {"NumericGreaterThan": {"Context:Hour": "21"}}},
            {"sid": "AllowBashApproved", "effect": "Allow", "actions": ["tool:execute"], "resources": ["*"],
             "conditions": {"StringEquals": {"Tool:Name": "bash"}, "Bool": {"Request:HasHumanApproval": "true"}}}
        ]}))
        .unwrap();
        let model = |name| {
            b.evaluate(
                "model:invoke",
                "*",
                &context(&[("Model:Provider", "anthropic"), ("Model:Name", name)]),
            )
            .effect
        };
        assert_eq!(model("claude-sonnet-4"), Effect::Allow);
        assert_eq!(model("claude/x"), Effect::Deny);
        let bash = |hour: Option<&str>| {
            let mut cx = context(&[("Tool:Name", "bash"), ("Request:HasHumanApproval", "TRUE")]);
            if let Some(hour) = hour {
                cx.insert("Context:Hour".into(), hour.into());
            }
            b.evaluate("tool:execute", "bash", &cx)
        };
        assert_eq!(bash(Some("9")).matched, ["AllowBashApproved"]);
        assert_eq!(bash(Some("22abc")).matched, ["DenyNight"]);
        assert_eq!(bash(None).effect, Effect::Allow);
        assert_eq!(
            b.evaluate("tool:execute", "ls", &context(&[])).matched,
            Vec::<String>::new()
        );
    }

    #[test]
    fn negative_operators_pass_on_missing_keys() {
        let policy = Evaluator::new(&json!({"policy_version": "2", "statements": [
            {"sid": "A", "effect": "Allow", "actions": ["*"], "resources": ["*"]},
            {"sid": "D", "effect": "Deny", "actions": ["*"], "resources": ["*"],
             "conditions": {"StringNotEquals": {"Request:HasHumanApproval": "true"}}}
        ]}))
        .unwrap();
        assert_eq!(
            policy.evaluate("x", "y", &context(&[])).effect,
            Effect::Deny
        );
        let approved = context(&[("Request:HasHumanApproval", "true")]);
        assert_eq!(policy.evaluate("x", "y", &approved).effect, Effect::Allow);
    }

    #[test]
    fn numbers_and_addresses_read_like_javascript() {
        assert_eq!(parse_float("22abc"), 22.0);
        assert_eq!(parse_float(" -1.5e2x"), -150.0);
        assert_eq!(parse_float(".5"), 0.5);
        assert!(parse_float("abc").is_nan());
        assert!(in_cidr("10.1.2.3", "10.0.0.0/8"));
        assert!(in_cidr("4abc.0.0.1", "4.0.0.1"));
        assert!(!in_cidr("11.0.0.1", "10.0.0.0/8"));
        assert!(!in_cidr("::1", "10.0.0.0/8"));
    }

    #[test]
    fn refuses_what_is_not_v2() {
        assert!(Evaluator::new(&json!({"policy_version": "1"})).is_err());
        assert!(Evaluator::new(&json!({"policy_version": "2"})).is_err());
    }
}
