use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Location, SharedText};

/// A file's path (as shown to the user) and its text, with a line index so
/// byte offsets turn into line and column.
#[derive(Clone, PartialEq, Eq)]
pub struct SourceFile {
    inner: Arc<Inner>,
}

#[derive(PartialEq, Eq)]
struct Inner {
    path: PathBuf,
    text: SharedText,
    line_starts: Vec<usize>,
}

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text can be large and is never interesting in a debug dump.
        f.debug_tuple("SourceFile").field(&self.inner.path).finish()
    }
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<SharedText>) -> Self {
        let text: SharedText = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            inner: Arc::new(Inner {
                path: path.into(),
                text,
                line_starts,
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub fn text(&self) -> &str {
        &self.inner.text
    }

    /// 1-based line and column (in characters) of a byte offset. Offsets past
    /// the end or inside a character are clamped to a valid position.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let text = self.text();
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self
            .inner
            .line_starts
            .partition_point(|&start| start <= offset);
        let line_start = self.inner.line_starts[line.saturating_sub(1)];
        let column = text[line_start..offset].chars().count() + 1;
        (line.max(1), column)
    }

    pub fn locate(&self, range: Range<usize>) -> Location {
        let text = self.text();
        // Widen to whole characters: renderers slice the text at these offsets.
        let mut end = range.end.min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let mut start = range.start.min(end);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let (line, column) = self.line_col(start);
        Location {
            source: self.clone(),
            range: start..end,
            line,
            column,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_chars() {
        let file = SourceFile::new("a.toml", "ab\nçd = 1\n");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        // 'ç' is two bytes; 'd' is the second character of line 2.
        assert_eq!(file.line_col(5), (2, 2));
        assert_eq!(file.line_col(1000), (3, 1));
    }

    #[test]
    fn offset_inside_a_character_is_clamped() {
        let file = SourceFile::new("a.toml", "ç");
        assert_eq!(file.line_col(1), (1, 1));
        assert_eq!(file.locate(1..2).range, 0..2);
    }
}
