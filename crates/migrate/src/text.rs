//! Source text with a line table: turns proc-macro2 line/column positions into byte offsets.

use proc_macro2::{LineColumn, Span};

pub(crate) const BOM: &str = "\u{feff}";

/// The original text of a file, the part handed to syn (without a BOM) and its line starts.
pub(crate) struct SourceText<'a> {
    /// The full original text.
    pub original: &'a str,
    /// Bytes skipped before the parsed text (3 for a BOM, else 0).
    base: usize,
    /// Byte offset (into the parsed text) of the start of each line.
    line_starts: Vec<usize>,
    /// The file's line break style, found once: sites ask for it one by one.
    newline: &'static str,
}

impl<'a> SourceText<'a> {
    pub fn new(original: &'a str) -> Self {
        let base = if original.starts_with(BOM) {
            BOM.len()
        } else {
            0
        };
        let code = &original[base..];
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', code.as_bytes()).map(|i| i + 1));
        let newline = if memchr::memmem::find(original.as_bytes(), b"\r\n").is_some() {
            "\r\n"
        } else {
            "\n"
        };
        SourceText {
            original,
            base,
            line_starts,
            newline,
        }
    }

    /// The text syn parses: the original without a leading BOM.
    pub fn code(&self) -> &'a str {
        &self.original[self.base..]
    }

    /// Byte offset into the original text of a proc-macro2 position (1-based line, 0-based
    /// column counted in chars). Clamped to the end of its line.
    pub fn offset(&self, lc: LineColumn) -> usize {
        let code = self.code();
        let Some(&start) = self.line_starts.get(lc.line.saturating_sub(1)) else {
            return self.original.len();
        };
        let end = self.line_starts.get(lc.line).copied().unwrap_or(code.len());
        let line = &code[start..end];
        let within = if line.is_ascii() {
            lc.column.min(line.len())
        } else {
            line.char_indices()
                .nth(lc.column)
                .map_or(line.len(), |(i, _)| i)
        };
        self.base + start + within
    }

    /// Byte range of a span in the original text.
    pub fn range(&self, span: Span) -> std::ops::Range<usize> {
        let start = self.offset(span.start());
        let end = self.offset(span.end());
        start..end.max(start)
    }

    /// 1-based line and 1-based column (in chars) of a byte offset of the original text.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let rel = offset.saturating_sub(self.base);
        let line = self.line_starts.partition_point(|&s| s <= rel).max(1);
        let start = self.line_starts[line - 1];
        let code = self.code();
        let col = code
            .get(start..rel.min(code.len()))
            .map_or(0, |s| s.chars().count());
        (line, col + 1)
    }

    /// Byte range of the whole line containing `offset`, including its line break.
    pub fn line_range(&self, offset: usize) -> std::ops::Range<usize> {
        let rel = offset.saturating_sub(self.base);
        let line = self.line_starts.partition_point(|&s| s <= rel).max(1);
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.code().len());
        self.base + start..self.base + end
    }

    /// The whitespace that opens the line containing `offset`.
    pub fn indent_at(&self, offset: usize) -> &'a str {
        let line = self.line_range(offset);
        let text = &self.original[line.start..line.end];
        let n = text.len() - text.trim_start_matches([' ', '\t']).len();
        &text[..n]
    }

    /// The line break style of the file.
    pub fn newline(&self) -> &'static str {
        self.newline
    }

    /// The whole-line range of `range` when only whitespace surrounds it on its lines (so a
    /// deleted statement takes its indentation and line break with it); else `range` itself.
    pub fn expand_to_lines(&self, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let first = self.line_range(range.start);
        let last = self.line_range(range.end.saturating_sub(1).max(range.start));
        let before = &self.original[first.start..range.start];
        let after = &self.original[range.end..last.end];
        // A trailing `// comment` on the statement's last line describes it: it goes too.
        let after_ok = after.trim().is_empty() || after.trim_start().starts_with("//");
        if before.trim().is_empty() && after_ok {
            first.start..last.end
        } else {
            range
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_chars_and_bom_and_crlf_are_handled() {
        let src = "\u{feff}fn a() {}\r\n// é\r\nlet x = \"é\"; y";
        let text = SourceText::new(src);
        let y = text.offset(LineColumn {
            line: 3,
            column: 13,
        });
        assert_eq!(&src[y..], "y");
        assert_eq!(text.line_col(y), (3, 14));
        let line2 = text.line_range(text.offset(LineColumn { line: 2, column: 0 }));
        assert_eq!(&src[line2], "// é\r\n");
    }
}
