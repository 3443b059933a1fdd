//! Where in a file a value sits, written as `resourceSpans[0].spans[17].traceId`.
//!
//! A [`Path`] is a chain of borrowed segments on the stack, so reading a valid
//! file allocates nothing for paths; the text is written only for a problem.

use std::fmt::Write as _;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Segment<'a> {
    /// The top of the file (or of one line of a line-delimited file).
    Root,
    /// One line of a line-delimited file, counted from 1.
    Line(usize),
    Field(&'a str),
    Index(usize),
    /// A path already written out (kept while its borrowed chain is gone).
    Text(&'a str),
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    segment: Segment<'a>,
}

impl<'a> Path<'a> {
    pub(crate) const ROOT: Path<'static> = Path {
        parent: None,
        segment: Segment::Root,
    };

    pub(crate) fn line(number: usize) -> Path<'static> {
        Path {
            parent: None,
            segment: Segment::Line(number),
        }
    }

    pub(crate) fn text(written: &'a str) -> Path<'a> {
        Path {
            parent: None,
            segment: Segment::Text(written),
        }
    }

    pub(crate) fn field<'b>(&'b self, name: &'b str) -> Path<'b> {
        Path {
            parent: Some(self),
            segment: Segment::Field(name),
        }
    }

    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            segment: Segment::Index(index),
        }
    }

    /// The path as people read it; `""` for the top of a file.
    pub(crate) fn render(&self) -> String {
        // Walk up the chain (no recursion), then write from the top.
        let mut segments = Vec::new();
        let mut at = Some(self);
        while let Some(path) = at {
            segments.push(path.segment);
            at = path.parent;
        }
        let mut text = String::new();
        // After "line 3" comes ": ", not a dot.
        let mut after_line = false;
        for segment in segments.iter().rev() {
            match *segment {
                Segment::Root => {}
                Segment::Text(written) => text.push_str(written),
                Segment::Line(number) => {
                    let _ = write!(text, "line {number}");
                    after_line = true;
                }
                Segment::Field(name) => {
                    if after_line {
                        text.push_str(": ");
                    } else if !text.is_empty() {
                        text.push('.');
                    }
                    after_line = false;
                    text.push_str(name);
                }
                Segment::Index(index) => {
                    if after_line {
                        text.push_str(": ");
                    }
                    after_line = false;
                    let _ = write!(text, "[{index}]");
                }
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_as_in_the_issue() {
        let root = Path::ROOT;
        let resource_spans = root.field("resourceSpans");
        let first = resource_spans.index(0);
        let scope_spans = first.field("scopeSpans");
        let third = scope_spans.index(2);
        let spans = third.field("spans");
        let span = spans.index(17);
        assert_eq!(
            span.field("traceId").render(),
            "resourceSpans[0].scopeSpans[2].spans[17].traceId"
        );
        assert_eq!(root.index(5).field("id").render(), "[5].id");
        let line = Path::line(3);
        assert_eq!(
            line.field("resourceSpans").render(),
            "line 3: resourceSpans"
        );
        assert_eq!(line.render(), "line 3");
        assert_eq!(root.render(), "");
    }
}
