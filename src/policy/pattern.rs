//! Set relations between tool patterns (`*` any run, `?` one character).
//!
//! Matching a tool name against a pattern is the decision engine's job and
//! uses `globset`. This module answers questions globset cannot: does one
//! pattern cover another, and can two patterns match the same tool? The linter
//! asks them to find dead allows and ungated dangerous tools; the diff asks
//! them to tell a widening from a neutral change.

/// Whether every tool matched by `inner` is also matched by `outer`.
///
/// Sound but not complete: `true` is always right; a few exotic pairs (such
/// as `*?` covering `?*`) answer `false`. Callers use it where a missed
/// inclusion costs only a missed finding, never a wrong one.
pub fn includes(outer: &str, inner: &str) -> bool {
    // Treat `inner`'s wildcards as symbols: a `*` of `inner` can only be
    // absorbed by a `*` of `outer`, a `?` by a `?` or a `*`. If `outer`
    // matches that symbolic string, it matches every instance of it.
    let outer: Vec<char> = outer.chars().collect();
    let inner: Vec<char> = inner.chars().collect();
    // reach[j]: outer[..i] can match inner[..j].
    let mut reach = vec![false; inner.len() + 1];
    reach[0] = true;
    for &o in &outer {
        let mut next = vec![false; inner.len() + 1];
        if o == '*' {
            // A star matches any run of inner symbols, wildcards included.
            let mut any = false;
            for j in 0..=inner.len() {
                any |= reach[j];
                next[j] = any;
            }
        } else {
            for j in 0..inner.len() {
                if reach[j] && (inner[j] == o || (o == '?' && inner[j] != '*')) {
                    next[j + 1] = true;
                }
            }
        }
        reach = next;
    }
    reach[inner.len()]
}

/// Whether some tool name is matched by both patterns. Exact.
pub fn overlaps(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // seen[i][j]: a[i..] and b[j..] can still produce a common string.
    let mut stack = vec![(0usize, 0usize)];
    let mut seen = vec![vec![false; b.len() + 1]; a.len() + 1];
    while let Some((i, j)) = stack.pop() {
        if std::mem::replace(&mut seen[i][j], true) {
            continue;
        }
        if i == a.len() && j == b.len() {
            return true;
        }
        let (x, y) = (a.get(i).copied(), b.get(j).copied());
        if x == Some('*') {
            stack.push((i + 1, j));
            if j < b.len() {
                stack.push((i, j + 1));
            }
        }
        if y == Some('*') {
            stack.push((i, j + 1));
            if i < a.len() {
                stack.push((i + 1, j));
            }
        }
        if let (Some(x), Some(y)) = (x, y)
            && x != '*'
            && y != '*'
            && (x == y || x == '?' || y == '?')
        {
            stack.push((i + 1, j + 1));
        }
    }
    false
}

/// Whether a pattern matches every tool name (`*`, `**`, `*?*`, ...) or
/// every name of at least some length, which is as good as everything.
pub fn is_universal(pattern: &str) -> bool {
    pattern.contains('*') && pattern.chars().all(|c| c == '*' || c == '?')
}

/// The literal text before the first wildcard (`deploy.` for `deploy.*`).
pub fn literal_prefix(pattern: &str) -> &str {
    let end = pattern.find(['*', '?']).unwrap_or(pattern.len());
    &pattern[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inclusion() {
        for (outer, inner) in [
            ("*", "anything"),
            ("*", "deploy.*"),
            ("deploy.*", "deploy.prod"),
            ("deploy.*", "deploy.prod.*"),
            ("deploy.*", "deploy.?"),
            ("repo.*", "repo.*"),
            ("a?c", "abc"),
            ("*.merge", "repo.merge"),
        ] {
            assert!(includes(outer, inner), "{outer} ⊇ {inner}");
        }
        for (outer, inner) in [
            ("deploy.prod", "deploy.*"),
            ("a?c", "a*c"),
            ("repo.read", "repo.write"),
            ("deploy.*", "deploy"),
            ("?", "*"),
        ] {
            assert!(!includes(outer, inner), "{outer} ⊉ {inner}");
        }
    }

    #[test]
    fn overlap() {
        for (a, b) in [
            ("*", "x"),
            ("deploy.*", "*.prod"),
            ("a?c", "a*"),
            ("exec", "ex*c"),
            ("*", "*"),
        ] {
            assert!(overlaps(a, b), "{a} ∩ {b}");
            assert!(overlaps(b, a), "{b} ∩ {a}");
        }
        for (a, b) in [
            ("deploy.*", "repo.*"),
            ("a?c", "abcd"),
            ("exec", "shell"),
            ("a*", "b*"),
        ] {
            assert!(!overlaps(a, b), "{a} ∩ {b} = ∅");
        }
    }

    #[test]
    fn universal_and_prefix() {
        assert!(
            is_universal("*") && is_universal("?*") && !is_universal("?") && !is_universal("a*")
        );
        assert_eq!(literal_prefix("deploy.*"), "deploy.");
        assert_eq!(literal_prefix("exec"), "exec");
    }
}
