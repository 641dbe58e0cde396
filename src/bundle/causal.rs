//! Causal binding: the span graph that gateway receipts' bindings describe
//! (`span_id`, `parent_span_id`, `tool_span_id`, `phase`,
//! `attribution_confidence`), checked as the protocol's reference verifier
//! does, in its order, first failure wins (docs/bundles.md#causal-binding).
//!
//! Only gateway receipts make the graph; side-effect and human-approval
//! receipts must point into it (in `enforce` connectivity). Tool receipts
//! take no part, as in the reference.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::approval;
use super::reason::{Code, Failure};
use crate::crypto::envelope::parse_rfc3339;

/// How strictly the graph must hang together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    // Per-entry, span-reuse, relation, cycle and confidence checks only.
    Observe,
    // The same as `observe` (the reference emits no warning either).
    Warn,
    // Also one connected graph with a root, and every side-effect and
    // human-approval receipt anchored to a gateway receipt's span.
    #[default]
    Enforce,
}

/// The causal policy profile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    // The modes as given (connectivity `enforce`, coverage `observe` by
    // default).
    #[default]
    Compat,
    // Locks connectivity and coverage to `enforce`; asking for less is
    // `CAUSAL_POLICY_PROFILE_DOWNGRADE`.
    Strict,
}

impl Profile {
    /// The profile named `text`, exactly as the protocol spells it.
    pub fn parse(text: &str) -> Result<Profile, Failure> {
        match text {
            "compat" => Ok(Profile::Compat),
            "strict" => Ok(Profile::Strict),
            other => Err(Failure::new(
                Code::CausalPolicyProfileInvalid,
                "",
                format!("causal policy profile `{other}` is neither `compat` nor `strict`"),
            )),
        }
    }
}

/// The resolved causal policy a bundle is checked under.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub profile: Profile,
    pub connectivity: Mode,
    /// CLDD coverage discrepancies: `enforce` makes them INVALID.
    pub coverage: CoverageMode,
}

/// How a coverage (CLDD) discrepancy is treated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum CoverageMode {
    // A discrepancy is tolerated (`observe`, `warn`) or INVALID (`enforce`).
    #[default]
    Observe,
    Warn,
    Enforce,
}

impl Policy {
    /// The policy for `profile` with the modes that were asked for (`None`:
    /// not given). `strict` refuses a weaker mode that was given
    /// explicitly, connectivity first.
    pub fn resolve(
        profile: Profile,
        connectivity: Option<Mode>,
        coverage: Option<CoverageMode>,
    ) -> Result<Policy, Failure> {
        match profile {
            Profile::Compat => Ok(Policy {
                profile,
                connectivity: connectivity.unwrap_or_default(),
                coverage: coverage.unwrap_or_default(),
            }),
            Profile::Strict => {
                if let Some(mode) = connectivity.filter(|m| *m != Mode::Enforce) {
                    return Err(Failure::new(
                        Code::CausalPolicyProfileDowngrade,
                        "",
                        format!(
                            "the strict causal profile requires connectivity `enforce`, not `{}`",
                            mode.as_str()
                        ),
                    ));
                }
                if let Some(mode) = coverage.filter(|m| *m != CoverageMode::Enforce) {
                    return Err(Failure::new(
                        Code::CausalPolicyProfileDowngrade,
                        "",
                        format!(
                            "the strict causal profile requires coverage `enforce`, not `{}`",
                            mode.as_str()
                        ),
                    ));
                }
                Ok(Policy {
                    profile,
                    connectivity: Mode::Enforce,
                    coverage: CoverageMode::Enforce,
                })
            }
        }
    }
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Observe => "observe",
            Mode::Warn => "warn",
            Mode::Enforce => "enforce",
        }
    }
}

impl CoverageMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageMode::Observe => "observe",
            CoverageMode::Warn => "warn",
            CoverageMode::Enforce => "enforce",
        }
    }
}

const PHASES: [&str; 7] = [
    "setup",
    "planning",
    "reasoning",
    "execution",
    "observation",
    "reflection",
    "teardown",
];

/// The keys that make a binding part of the graph.
const CAUSAL_KEYS: [&str; 9] = [
    "span_id",
    "spanId",
    "parent_span_id",
    "parentSpanId",
    "tool_span_id",
    "toolSpanId",
    "phase",
    "attribution_confidence",
    "attributionConfidence",
];

/// The three span references, each with its camelCase alias.
const SPAN: (&str, &str) = ("span_id", "spanId");
const PARENT: (&str, &str) = ("parent_span_id", "parentSpanId");
const TOOL: (&str, &str) = ("tool_span_id", "toolSpanId");

/// Whether a phase may follow another along a parent or tool edge.
fn transition_allowed(from: &str, to: &str) -> bool {
    let allowed: &[&str] = match from {
        "setup" => &["setup", "planning"],
        "planning" => &["planning", "reasoning", "execution"],
        "reasoning" => &["reasoning", "execution", "observation"],
        "execution" => &["execution", "observation", "reflection", "teardown"],
        "observation" => &["observation", "reflection", "teardown"],
        "reflection" => &["reflection", "teardown"],
        "teardown" => &["teardown"],
        _ => return true,
    };
    allowed.contains(&to)
}

/// One gateway receipt's causal binding, normalised.
struct Entry<'a> {
    /// `/payload/receipts/{i}`.
    at: String,
    span: Option<String>,
    parent: Option<String>,
    tool: Option<String>,
    phase: Option<&'a Value>,
    confidence: Option<f64>,
    /// `payload.timestamp`, milliseconds since the epoch.
    timestamp: Option<i64>,
    /// The receipt envelope's `issued_at`, milliseconds.
    issued_at: Option<i64>,
    /// An unreadable timestamp or issued_at, reported in the per-entry
    /// checks (after normalisation and replay, as the reference orders it).
    clock_error: Option<Failure>,
}

impl Entry<'_> {
    /// A span's causal time: its timestamp, else its issued_at.
    fn time(&self) -> Option<i64> {
        self.timestamp.or(self.issued_at)
    }

    fn phase(&self) -> Option<&str> {
        self.phase.and_then(Value::as_str)
    }

    fn time_pointer(&self) -> String {
        if self.timestamp.is_some() {
            format!("{}/payload/timestamp", self.at)
        } else {
            format!("{}/issued_at", self.at)
        }
    }

    fn binding_pointer(&self, key: &str) -> String {
        format!("{}/payload/binding/{key}", self.at)
    }
}

/// The causal checks of one proof bundle payload (schema-checked and
/// signed), under `policy`: the first failure, if any.
pub fn check(payload: &Value, policy: &Policy) -> Option<Failure> {
    let receipts = payload
        .get("receipts")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let entries = match entries(receipts) {
        Ok(entries) => entries,
        Err(failure) => return Some(failure),
    };
    if let Some(failure) = replay(receipts) {
        return Some(failure);
    }
    let spans = Spans::new(&entries);
    if let Err(failure) = graph(&entries, &spans, policy.connectivity) {
        return Some(failure);
    }
    if policy.connectivity == Mode::Enforce {
        for (field, code, what) in [
            (
                "side_effect_receipts",
                Code::CausalSideEffectOrphaned,
                "side-effect",
            ),
            (
                "human_approval_receipts",
                Code::CausalHumanApprovalOrphaned,
                "human approval",
            ),
        ] {
            if let Some(failure) = anchors(payload, field, code, what, &spans) {
                return Some(failure);
            }
        }
    }
    coverage(payload, policy.coverage)
}

/// 26a: every gateway receipt binding with a causal key, normalised.
fn entries(receipts: &[Value]) -> Result<Vec<Entry<'_>>, Failure> {
    let mut entries = Vec::new();
    for (i, receipt) in receipts.iter().enumerate() {
        let at = format!("/payload/receipts/{i}");
        let Some(binding) = receipt
            .get("payload")
            .and_then(|p| p.get("binding"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        if !CAUSAL_KEYS.iter().any(|key| binding.contains_key(*key)) {
            continue;
        }
        let binding_at = format!("{at}/payload/binding");
        let span = span_ref(binding, &binding_at, SPAN)?;
        let parent = span_ref(binding, &binding_at, PARENT)?;
        let tool = span_ref(binding, &binding_at, TOOL)?;
        let confidence = confidence(binding, &binding_at)?;
        let timestamp = time_field(receipt.pointer("/payload/timestamp"), || {
            format!("{at}/payload/timestamp")
        });
        let issued_at = time_field(receipt.get("issued_at"), || format!("{at}/issued_at"));
        let clock_error = timestamp.clone().and(issued_at.clone()).err();
        entries.push(Entry {
            span,
            parent,
            tool,
            phase: binding.get("phase"),
            confidence,
            timestamp: timestamp.ok().flatten(),
            issued_at: issued_at.ok().flatten(),
            clock_error,
            at,
        });
    }
    Ok(entries)
}

/// A timestamp, in milliseconds: absent is `None`, present and unreadable
/// is `CAUSAL_CLOCK_CONTRADICTION`.
fn time_field(value: Option<&Value>, at: impl Fn() -> String) -> Result<Option<i64>, Failure> {
    let Some(value) = value else {
        return Ok(None);
    };
    value
        .as_str()
        .filter(|text| !is_leap_second(text))
        .and_then(|text| parse_rfc3339(text).ok())
        .map(|time| Some(time.as_millisecond()))
        .ok_or_else(|| {
            Failure::new(
                Code::CausalClockContradiction,
                at(),
                "a causal timestamp is not an RFC 3339 date-time",
            )
        })
}

/// `…:60` seconds: RFC 3339 allows them, the reference's date parser does
/// not, so a causal clock on one is unreadable there too.
fn is_leap_second(text: &str) -> bool {
    text.get(17..19) == Some("60")
}

/// A span reference (snake_case wins, both forms must agree), trimmed as
/// the reference trims.
pub(crate) fn span_ref(
    binding: &Map<String, Value>,
    at: &str,
    (snake, camel): (&str, &str),
) -> Result<Option<String>, Failure> {
    let read = |key: &str| -> Result<Option<String>, Failure> {
        match binding.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => {
                let trimmed = js_trim(text);
                if trimmed.is_empty() {
                    Err(Failure::new(
                        Code::CausalBindingNormalizationFailed,
                        format!("{at}/{key}"),
                        format!("{key} is empty after trimming"),
                    ))
                } else {
                    Ok(Some(trimmed.to_owned()))
                }
            }
            Some(_) => Err(Failure::new(
                Code::CausalBindingNormalizationFailed,
                format!("{at}/{key}"),
                format!("{key} must be a string when present"),
            )),
        }
    };
    let snake_value = read(snake)?;
    let camel_value = read(camel)?;
    match (snake_value, camel_value) {
        (Some(a), Some(b)) if a != b => Err(Failure::new(
            Code::CausalBindingFieldConflict,
            format!("{at}/{snake}"),
            format!("{snake} `{a}` and {camel} `{b}` differ"),
        )),
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b),
    }
}

fn confidence(binding: &Map<String, Value>, at: &str) -> Result<Option<f64>, Failure> {
    let read = |key: &str| match binding.get(key) {
        None => Ok(None),
        Some(value) => value.as_f64().map(Some).ok_or_else(|| {
            Failure::new(
                Code::CausalBindingNormalizationFailed,
                format!("{at}/{key}"),
                format!("{key} must be a number when present"),
            )
        }),
    };
    let snake = read("attribution_confidence")?;
    let camel = read("attributionConfidence")?;
    match (snake, camel) {
        // Bit equality, as JavaScript's Object.is: 0 and -0 differ.
        (Some(a), Some(b)) if a.to_bits() != b.to_bits() => Err(Failure::new(
            Code::CausalBindingFieldConflict,
            format!("{at}/attribution_confidence"),
            format!("attribution_confidence {a} and attributionConfidence {b} differ"),
        )),
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b),
    }
}

/// JavaScript's `String.prototype.trim`: its whitespace set differs from
/// Rust's (it strips U+FEFF and keeps U+0085), and span ids must compare
/// as the reference compares them.
pub(crate) fn js_trim(text: &str) -> &str {
    fn js_space(c: char) -> bool {
        matches!(
            c,
            '\u{9}'..='\u{d}'
                | ' '
                | '\u{a0}'
                | '\u{1680}'
                | '\u{2000}'..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
        )
    }
    text.trim_matches(js_space)
}

/// 26b: one receipt id with two different payloads. Byte-identical copies
/// pass here (wpc's own `REPLAYED_RECEIPT_ID` reports them).
fn replay(receipts: &[Value]) -> Option<Failure> {
    let mut seen: HashMap<&str, &Value> = HashMap::new();
    for (i, receipt) in receipts.iter().enumerate() {
        let Some(payload) = receipt.get("payload") else {
            continue;
        };
        let Some(id) = payload
            .get("receipt_id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
        else {
            continue;
        };
        match seen.get(id) {
            // serde_json's Value equality is JCS equality for parsed JSON
            // (key order never matters in a map; numbers compare by value).
            Some(first) if *first != payload => {
                return Some(Failure::new(
                    Code::CausalReceiptReplayDetected,
                    format!("/payload/receipts/{i}/payload/receipt_id"),
                    format!("receipt_id `{id}` appears earlier with a different payload"),
                ));
            }
            Some(_) => {}
            None => {
                seen.insert(id, payload);
            }
        }
    }
    None
}

/// The distinct spans of a bundle's gateway receipts, each defined by its
/// first binding, numbered in order of appearance, with the references of
/// those bindings resolved to span numbers. The graph checks work on the
/// numbers: one hash lookup per span id, not one per set operation.
struct Spans<'e, 'a> {
    /// The defining entry of each span.
    first: Vec<&'e Entry<'a>>,
    number: HashMap<&'e str, usize>,
    /// Each span's parent and tool span (`None` when absent or unknown).
    parent: Vec<Option<usize>>,
    tool: Vec<Option<usize>>,
}

impl<'e, 'a> Spans<'e, 'a> {
    fn new(entries: &'e [Entry<'a>]) -> Self {
        let mut first = Vec::new();
        let mut number = HashMap::with_capacity(entries.len());
        for entry in entries {
            if let Some(id) = entry.span.as_deref() {
                number.entry(id).or_insert_with(|| {
                    first.push(entry);
                    first.len() - 1
                });
            }
        }
        let resolve = |id: &Option<String>| id.as_deref().and_then(|id| number.get(id).copied());
        let parent = first.iter().map(|e| resolve(&e.parent)).collect();
        let tool = first.iter().map(|e| resolve(&e.tool)).collect();
        Spans {
            first,
            number,
            parent,
            tool,
        }
    }

    fn contains(&self, id: &str) -> bool {
        self.number.contains_key(id)
    }

    /// The defining entry of span `id`.
    fn get(&self, id: &str) -> Option<&'e Entry<'a>> {
        self.number.get(id).map(|&n| self.first[n])
    }

    /// The spans span `n` refers to (parent, then tool).
    fn refs(&self, n: usize) -> impl Iterator<Item = usize> {
        [self.parent[n], self.tool[n]].into_iter().flatten()
    }
}

/// 26c: per-entry checks, span reuse, relations, cycles, confidence
/// classes and (in `enforce`) connectivity.
fn graph(entries: &[Entry<'_>], spans: &Spans<'_, '_>, mode: Mode) -> Result<(), Failure> {
    for entry in entries {
        if let Some(failure) = &entry.clock_error {
            return Err(failure.clone());
        }
        if let (Some(timestamp), Some(issued_at)) = (entry.timestamp, entry.issued_at)
            && timestamp > issued_at
        {
            return Err(Failure::new(
                Code::CausalClockContradiction,
                format!("{}/payload/timestamp", entry.at),
                "payload.timestamp must be less than or equal to envelope.issued_at",
            ));
        }
        if let Some(phase) = entry.phase
            && !phase.as_str().is_some_and(|p| PHASES.contains(&p))
        {
            return Err(Failure::new(
                Code::CausalPhaseInvalid,
                entry.binding_pointer("phase"),
                format!("phase must be one of {}", PHASES.join(", ")),
            ));
        }
        if let Some(confidence) = entry.confidence
            && !(0.0..=1.0).contains(&confidence)
        {
            return Err(Failure::new(
                Code::CausalConfidenceOutOfRange,
                entry.binding_pointer("attribution_confidence"),
                format!("attribution_confidence {confidence} is outside [0, 1]"),
            ));
        }
        for (reference, key) in [(&entry.parent, PARENT.0), (&entry.tool, TOOL.0)] {
            if let Some(span) = reference
                && !spans.contains(span)
            {
                return Err(Failure::new(
                    Code::CausalReferenceDangling,
                    entry.binding_pointer(key),
                    format!("{key} `{span}` is no span of this bundle's gateway receipts"),
                ));
            }
        }
    }

    // The first binding of each span defines it; later ones must agree.
    for entry in entries {
        let Some(id) = entry.span.as_deref() else {
            continue;
        };
        let Some(first) = spans.get(id).filter(|first| !std::ptr::eq(*first, entry)) else {
            continue;
        };
        if let (Some(a), Some(b)) = (first.time(), entry.time())
            && a != b
        {
            return Err(Failure::new(
                Code::CausalClockContradiction,
                entry.time_pointer(),
                format!("inconsistent causal timestamps across bindings of span_id `{id}`"),
            ));
        }
        let differs =
            |a: Option<&str>, b: Option<&str>| matches!((a, b), (Some(a), Some(b)) if a != b);
        let mut conflicts = Vec::new();
        if differs(first.parent.as_deref(), entry.parent.as_deref()) {
            conflicts.push("parent_span_id");
        }
        if differs(first.tool.as_deref(), entry.tool.as_deref()) {
            conflicts.push("tool_span_id");
        }
        let phase_differs = matches!((first.phase, entry.phase), (Some(a), Some(b)) if a != b);
        if phase_differs {
            conflicts.push("phase");
        }
        if matches!((first.confidence, entry.confidence), (Some(a), Some(b)) if a.to_bits() != b.to_bits())
        {
            conflicts.push("attribution_confidence");
        }
        if !conflicts.is_empty() {
            return Err(Failure::new(
                Code::CausalSpanReuseConflict,
                entry.binding_pointer("span_id"),
                format!(
                    "span_id `{id}` is reused with a different {}",
                    conflicts.join(", ")
                ),
            ));
        }
    }

    for (n, span) in spans.first.iter().enumerate() {
        for (referenced, key) in [(spans.parent[n], PARENT.0), (spans.tool[n], TOOL.0)] {
            let Some(referenced) = referenced.map(|r| spans.first[r]) else {
                continue;
            };
            if let (Some(child), Some(parent)) = (span.time(), referenced.time())
                && child.cmp(&parent) == Ordering::Less
            {
                return Err(Failure::new(
                    Code::CausalClockContradiction,
                    span.time_pointer(),
                    format!(
                        "span_id `{}` occurs before its {key} `{}`",
                        span_id(span),
                        span_id(referenced)
                    ),
                ));
            }
            if let (Some(from), Some(to)) = (referenced.phase(), span.phase())
                && !transition_allowed(from, to)
            {
                return Err(Failure::new(
                    Code::CausalPhaseTransitionInvalid,
                    span.binding_pointer("phase"),
                    format!("invalid causal phase transition {from} -> {to}"),
                ));
            }
        }
    }

    acyclic(spans)?;

    // Referenced by any binding (every reference is a known span by now).
    let mut referenced = vec![false; spans.first.len()];
    for entry in entries {
        for id in [entry.parent.as_deref(), entry.tool.as_deref()]
            .into_iter()
            .flatten()
        {
            if let Some(&n) = spans.number.get(id) {
                referenced[n] = true;
            }
        }
    }
    for entry in entries {
        let Some(confidence) = entry.confidence else {
            continue;
        };
        let (class, cap) = if entry.parent.is_some()
            || entry.tool.is_some()
            || entry
                .span
                .as_deref()
                .and_then(|id| spans.number.get(id))
                .is_some_and(|&n| referenced[n])
        {
            ("direct", 1.0)
        } else if entry.span.is_some() {
            ("inferred", 0.5)
        } else {
            ("unattributed", 0.0)
        };
        if confidence > cap {
            return Err(Failure::new(
                Code::CausalConfidenceEvidenceInconsistent,
                entry.binding_pointer("attribution_confidence"),
                format!(
                    "attribution_confidence {confidence} exceeds max {cap} for {class} causal evidence"
                ),
            ));
        }
    }

    if mode == Mode::Enforce && !spans.first.is_empty() {
        connected(spans)?;
    }
    Ok(())
}

/// Parent edges only; each span has one parent, so following the chain from
/// every span finds any loop.
fn acyclic(spans: &Spans<'_, '_>) -> Result<(), Failure> {
    #[derive(Clone, Copy, PartialEq)]
    enum Seen {
        Not,
        OnThisPath,
        Done,
    }
    let mut seen = vec![Seen::Not; spans.first.len()];
    let mut path = Vec::new();
    for start in 0..spans.first.len() {
        let mut current = Some(start);
        while let Some(n) = current {
            match seen[n] {
                Seen::Done => break,
                Seen::OnThisPath => {
                    let node = spans.first[n];
                    return Err(Failure::new(
                        Code::CausalCycleDetected,
                        node.binding_pointer("parent_span_id"),
                        format!("cycle detected at span_id `{}`", span_id(node)),
                    ));
                }
                Seen::Not => {}
            }
            seen[n] = Seen::OnThisPath;
            path.push(n);
            current = spans.parent[n];
        }
        for n in path.drain(..) {
            seen[n] = Seen::Done;
        }
    }
    Ok(())
}

/// 26c-6: a root exists, every span reaches one, one component.
fn connected(spans: &Spans<'_, '_>) -> Result<(), Failure> {
    let count = spans.first.len();
    // Spans that reach a root (the roots first), grown until nothing changes.
    let mut reaching: Vec<bool> = spans
        .first
        .iter()
        .map(|e| e.parent.is_none() && e.tool.is_none())
        .collect();
    if !reaching.contains(&true) {
        return Err(Failure::new(
            Code::CausalGraphDisconnected,
            "/payload/receipts",
            "causal graph has no valid root lineage in enforce mode",
        ));
    }
    loop {
        let mut grew = false;
        for n in 0..count {
            if !reaching[n] && spans.refs(n).any(|r| reaching[r]) {
                reaching[n] = true;
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    if let Some(n) = reaching.iter().position(|&reaches| !reaches) {
        return Err(Failure::new(
            Code::CausalGraphDisconnected,
            spans.first[n].binding_pointer("span_id"),
            format!(
                "non-root span_id `{}` does not connect to a root",
                span_id(spans.first[n])
            ),
        ));
    }
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); count];
    for n in 0..count {
        for r in spans.refs(n) {
            neighbours[n].push(r);
            neighbours[r].push(n);
        }
    }
    let mut seen = vec![false; count];
    let mut stack = vec![0];
    while let Some(n) = stack.pop() {
        if !seen[n] {
            seen[n] = true;
            stack.extend(&neighbours[n]);
        }
    }
    if let Some(n) = seen.iter().position(|&seen| !seen) {
        return Err(Failure::new(
            Code::CausalGraphDisconnected,
            spans.first[n].binding_pointer("span_id"),
            format!(
                "the causal graph contains disconnected components: span_id `{}` is not connected to `{}`",
                span_id(spans.first[n]),
                span_id(spans.first[0])
            ),
        ));
    }
    Ok(())
}

/// A span's id; `""` for an entry without one.
fn span_id<'e>(entry: &'e Entry<'_>) -> &'e str {
    entry.span.as_deref().unwrap_or_default()
}

/// 26d: every side-effect or human-approval receipt names a gateway span
/// (`tool_span_id`, else `parent_span_id`, else `span_id`).
fn anchors(
    payload: &Value,
    field: &str,
    code: Code,
    what: &str,
    spans: &Spans<'_, '_>,
) -> Option<Failure> {
    let items = payload.get(field).and_then(Value::as_array)?;
    for (i, item) in items.iter().enumerate() {
        let at = format!("/payload/{field}/{i}");
        // A signed approval's binding is in its payload.
        let (item, at) = match code {
            Code::CausalHumanApprovalOrphaned => approval::payload(item, &at),
            _ => (item, at),
        };
        let Some(binding) = item.get("binding").and_then(Value::as_object) else {
            return Some(Failure::new(
                code,
                at,
                format!("the {what} receipt has no binding object for causal anchoring"),
            ));
        };
        let binding_at = format!("{at}/binding");
        let mut anchor = None;
        for pair in [TOOL, PARENT, SPAN] {
            match span_ref(binding, &binding_at, pair) {
                Err(failure) => return Some(failure),
                Ok(Some(span)) if anchor.is_none() => anchor = Some((pair.0, span)),
                Ok(_) => {}
            }
        }
        match anchor {
            Some((_, span)) if spans.contains(&span) => {}
            Some((key, span)) => {
                return Some(Failure::new(
                    code,
                    format!("{binding_at}/{key}"),
                    format!(
                        "the {what} receipt's {key} `{span}` is no span of this bundle's gateway receipts"
                    ),
                ));
            }
            None => {
                return Some(Failure::new(
                    code,
                    binding_at,
                    format!("the {what} receipt's binding names no span"),
                ));
            }
        }
    }
    None
}

/// 27: the agent's own CLDD coverage claim against what its coverage
/// attestations measured; a discrepancy fails only in `enforce`.
fn coverage(payload: &Value, mode: CoverageMode) -> Option<Failure> {
    if mode != CoverageMode::Enforce {
        return None;
    }
    let claim = payload
        .pointer("/metadata/sentinels/interpose_state/cldd")
        .and_then(Value::as_object)?;
    let claimed = (
        claim
            .get("unmediated_connections")
            .and_then(Value::as_u64)?,
        claim.get("unmonitored_spawns").and_then(Value::as_u64)?,
        claim.get("escapes_suspected").and_then(Value::as_bool)?,
    );
    let mut attested: Option<(u64, u64, bool)> = None;
    for attestation in payload
        .get("coverage_attestations")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
    {
        let metrics = attestation.pointer("/payload/metrics");
        let read = |path: &str| metrics.and_then(|m| m.pointer(path));
        let (Some(connections), Some(spawns), Some(escapes)) = (
            read("/egress/unmediated_connections").and_then(Value::as_u64),
            read("/lineage/unmonitored_spawns").and_then(Value::as_u64),
            read("/lineage/escapes_suspected").and_then(Value::as_bool),
        ) else {
            continue;
        };
        attested = Some(match attested {
            None => (connections, spawns, escapes),
            Some((c, s, e)) => (c.max(connections), s.max(spawns), e || escapes),
        });
    }
    let attested = attested?;
    (claimed != attested).then(|| {
        Failure::new(
            Code::CoverageClddDiscrepancyEnforced,
            "/payload/coverage_attestations",
            format!(
                "the CLDD claim (unmediated connections {}, unmonitored spawns {}, escapes suspected {}) differs from the coverage attestations ({}, {}, {})",
                claimed.0, claimed.1, claimed.2, attested.0, attested.1, attested.2
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A gateway receipt with a causal `binding`, issued when it happened.
    fn receipt(id: &str, at: &str, binding: Value) -> Value {
        json!({
            "issued_at": at,
            "payload": {"receipt_id": id, "timestamp": at, "binding": binding},
        })
    }

    /// The five causally broken graphs of issue 16, each on its own: a
    /// dangling parent span, a dangling tool span, a cycle, a confidence of
    /// 1.5 and a child earlier than its parent.
    #[test]
    fn each_broken_graph_gives_its_code() {
        let root = || {
            receipt(
                "r1",
                "2026-02-17T00:00:01Z",
                json!({"span_id": "a", "phase": "execution", "attribution_confidence": 1}),
            )
        };
        let child = |at: &str, binding: Value| receipt("r2", at, binding);
        let t2 = "2026-02-17T00:00:02Z";
        let cases = [
            (
                vec![child(
                    t2,
                    json!({"span_id": "b", "parent_span_id": "m", "phase": "execution"}),
                )],
                Code::CausalReferenceDangling,
                "/payload/receipts/1/payload/binding/parent_span_id",
            ),
            (
                vec![child(
                    t2,
                    json!({"span_id": "b", "parent_span_id": "a", "tool_span_id": "m", "phase": "execution"}),
                )],
                Code::CausalReferenceDangling,
                "/payload/receipts/1/payload/binding/tool_span_id",
            ),
            (
                vec![
                    child(t2, json!({"span_id": "x", "parent_span_id": "y"})),
                    receipt("r3", t2, json!({"span_id": "y", "parent_span_id": "x"})),
                ],
                Code::CausalCycleDetected,
                "",
            ),
            (
                vec![child(
                    t2,
                    json!({"span_id": "b", "parent_span_id": "a", "attribution_confidence": 1.5}),
                )],
                Code::CausalConfidenceOutOfRange,
                "/payload/receipts/1/payload/binding/attribution_confidence",
            ),
            (
                vec![child(
                    "2026-02-17T00:00:00Z",
                    json!({"span_id": "b", "parent_span_id": "a", "phase": "execution"}),
                )],
                Code::CausalClockContradiction,
                "",
            ),
        ];
        let fine = json!({"receipts": [root(), child(t2, json!({"span_id": "b", "parent_span_id": "a", "phase": "execution"}))]});
        assert_eq!(check(&fine, &Policy::default()), None);
        for (broken, code, pointer) in cases {
            let mut receipts = vec![root()];
            receipts.extend(broken);
            let payload = json!({ "receipts": receipts });
            let failure = check(&payload, &Policy::default()).unwrap();
            assert_eq!(failure.code, code, "{failure:?}");
            if !pointer.is_empty() {
                assert_eq!(failure.pointer, pointer, "{failure:?}");
            }
        }
    }
}
