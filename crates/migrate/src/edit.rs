//! Edits as data: byte ranges into the original text plus replacement text (the rustfix model).

use std::ops::Range;

use serde::Serialize;

/// One replacement: `range` is a byte range of the original text, `text` replaces it.
/// An insertion has an empty range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// Byte range in the original text.
    pub range: Range<usize>,
    /// Replacement text.
    pub text: String,
}

impl Edit {
    /// Replace `range` with `text`.
    pub fn replace(range: Range<usize>, text: impl Into<String>) -> Self {
        Edit {
            range,
            text: text.into(),
        }
    }

    /// Insert `text` at byte offset `at`.
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Edit {
            range: at..at,
            text: text.into(),
        }
    }

    /// Delete `range`.
    pub fn delete(range: Range<usize>) -> Self {
        Edit {
            range,
            text: String::new(),
        }
    }
}

/// Why an edit could not be added to an [`EditSet`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The range is inverted, past the end of the text or splits a UTF-8 character.
    #[error("edit range {start}..{end} is not a valid range of the {len}-byte text")]
    InvalidRange {
        /// Start of the rejected range.
        start: usize,
        /// End of the rejected range.
        end: usize,
        /// Length of the original text.
        len: usize,
    },
    /// The range overlaps an edit already in the set with different text.
    #[error("edit range {start}..{end} overlaps an earlier edit at {other_start}..{other_end}; each byte may be rewritten once")]
    Overlap {
        /// Start of the rejected range.
        start: usize,
        /// End of the rejected range.
        end: usize,
        /// Start of the conflicting edit.
        other_start: usize,
        /// End of the conflicting edit.
        other_end: usize,
    },
}

/// The edits for one file: sorted, non-overlapping, applied in one pass.
///
/// ```
/// use bodyline_migrate::{Edit, EditSet};
/// let mut set = EditSet::new("let a = 1;");
/// set.transaction(vec![Edit::replace(4..5, "b"), Edit::replace(8..9, "2")]).unwrap();
/// assert_eq!(set.apply(), "let b = 2;");
/// ```
#[derive(Debug, Clone)]
pub struct EditSet {
    len: usize,
    original: String,
    edits: Vec<Edit>,
}

impl EditSet {
    /// An empty set of edits for `original`.
    pub fn new(original: &str) -> Self {
        EditSet {
            len: original.len(),
            original: original.to_owned(),
            edits: Vec::new(),
        }
    }

    /// The edits, sorted by position.
    pub fn edits(&self) -> &[Edit] {
        &self.edits
    }

    /// True when there is nothing to change.
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// The original text.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// Add all `edits` or none: on the first invalid or conflicting edit the set is left as it was.
    /// An edit identical to one already present is skipped.
    pub fn transaction(&mut self, edits: Vec<Edit>) -> Result<(), EditError> {
        // Undo by removing what this transaction added (never a copy of the whole set: a file
        // with thousands of sites adds thousands of transactions).
        let mut added: Vec<Edit> = Vec::new();
        for edit in edits {
            match self.add(&edit) {
                Ok(true) => added.push(edit),
                Ok(false) => {}
                Err(e) => {
                    self.edits.retain(|kept| !added.contains(kept));
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Add one edit; false when an identical one is already present.
    fn add(&mut self, edit: &Edit) -> Result<bool, EditError> {
        let Range { start, end } = edit.range;
        if start > end
            || end > self.len
            || !self.original.is_char_boundary(start)
            || !self.original.is_char_boundary(end)
        {
            return Err(EditError::InvalidRange {
                start,
                end,
                len: self.len,
            });
        }
        // Only edits starting at or before `end` can equal or overlap this one. The edits are
        // sorted and do not overlap, so their ends never decrease either: walking back, the
        // first that ends before `start` closes the window. The first conflict in position
        // order is the one reported.
        let window = self.edits.partition_point(|o| o.range.start <= end);
        let mut conflict = None;
        for other in self.edits[..window].iter().rev() {
            if other.range.end < start {
                break;
            }
            if other == edit {
                return Ok(false);
            }
            let (os, oe) = (other.range.start, other.range.end);
            let overlaps = if start == end {
                os < start && start < oe
            } else if os == oe {
                start < os && os < end
            } else {
                start.max(os) < end.min(oe)
            };
            if overlaps {
                conflict = Some((os, oe));
            }
        }
        if let Some((other_start, other_end)) = conflict {
            return Err(EditError::Overlap {
                start,
                end,
                other_start,
                other_end,
            });
        }
        // Keep insertions at the same offset in the order they were added, before replacements.
        let at = self
            .edits
            .partition_point(|e| (e.range.start, !e.range.is_empty()) <= (start, start != end));
        self.edits.insert(at, edit.clone());
        Ok(true)
    }

    /// The new text: the original with every edit applied, in one pass.
    pub fn apply(&self) -> String {
        apply_edits(&self.original, &self.edits)
    }
}

/// Apply sorted, non-overlapping `edits` to `original`.
pub(crate) fn apply_edits(original: &str, edits: &[Edit]) -> String {
    let mut out = String::with_capacity(original.len());
    let mut at = 0;
    for e in edits {
        out.push_str(&original[at..e.range.start]);
        out.push_str(&e.text);
        at = e.range.end;
    }
    out.push_str(&original[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_edits_are_rejected_and_transaction_rolls_back() {
        let mut set = EditSet::new("abcdef");
        set.transaction(vec![Edit::replace(1..3, "X")]).unwrap();
        let err = set
            .transaction(vec![Edit::replace(4..5, "Y"), Edit::replace(2..4, "Z")])
            .unwrap_err();
        assert!(matches!(err, EditError::Overlap { .. }));
        assert_eq!(set.apply(), "aXdef");
    }

    #[test]
    fn duplicates_are_skipped_and_inserts_touch_replacements() {
        let mut set = EditSet::new("abcdef");
        set.transaction(vec![Edit::replace(1..3, "X"), Edit::replace(1..3, "X")])
            .unwrap();
        set.transaction(vec![Edit::insert(3, "+"), Edit::insert(1, "<")])
            .unwrap();
        set.transaction(vec![Edit::insert(1, "<<")]).unwrap();
        assert_eq!(set.apply(), "a<<<X+def");
        assert_eq!(set.edits().len(), 4);
    }

    /// The set before it searched only the edits near a new one: every edit compared, the whole
    /// set copied per transaction. The windowed search must decide exactly as it did.
    fn naive_transaction(set: &mut Vec<Edit>, edits: Vec<Edit>) -> Result<(), EditError> {
        let saved = set.clone();
        for edit in edits {
            let Range { start, end } = edit.range;
            if set.contains(&edit) {
                continue;
            }
            let conflict = set.iter().find(|o| {
                let (os, oe) = (o.range.start, o.range.end);
                if start == end {
                    os < start && start < oe
                } else if os == oe {
                    start < os && os < end
                } else {
                    start.max(os) < end.min(oe)
                }
            });
            if let Some(o) = conflict {
                let err = EditError::Overlap {
                    start,
                    end,
                    other_start: o.range.start,
                    other_end: o.range.end,
                };
                *set = saved;
                return Err(err);
            }
            let at = set
                .partition_point(|e| (e.range.start, !e.range.is_empty()) <= (start, start != end));
            set.insert(at, edit);
        }
        Ok(())
    }

    #[test]
    fn windowed_search_decides_like_comparing_every_edit() {
        let text = "x".repeat(40);
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n) as usize
        };
        for _ in 0..300 {
            let mut set = EditSet::new(&text);
            let mut model = Vec::new();
            for _ in 0..12 {
                let edits: Vec<Edit> = (0..1 + next(3))
                    .map(|_| {
                        let start = next(40);
                        let end = (start + next(4) * next(2)).min(40);
                        Edit::replace(start..end, ["a", "b"][next(2)])
                    })
                    .collect();
                let got = set.transaction(edits.clone());
                let want = naive_transaction(&mut model, edits);
                assert_eq!(got, want);
                assert_eq!(set.edits(), model.as_slice());
            }
        }
    }

    #[test]
    fn invalid_ranges_are_rejected() {
        let mut set = EditSet::new("aé");
        assert!(set.transaction(vec![Edit::replace(2..3, "")]).is_err());
        assert!(set.transaction(vec![Edit::replace(3..9, "")]).is_err());
        assert!(set.is_empty());
    }
}
