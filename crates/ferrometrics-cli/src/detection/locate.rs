//! Naming the entry of a COCO file at which a JSON syntax error occurs.
//!
//! serde_json reports a syntax error by line and column. A reader of a one-line results file
//! with a million detections needs the entry index and the field instead, so the text before the
//! error is scanned for the containers that are open at that point.

/// One open container on the path to the error.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// A list, with the index of the element being read.
    Index(usize),
    /// An object, with the key of the value being read, once the key is complete.
    Key(Option<String>),
}

/// Describes a serde_json syntax error in `text` with the entry and field where it occurs.
pub fn describe_syntax_error(text: &str, error: &serde_json::Error) -> String {
    let offset = byte_offset(text, error.line(), error.column());
    let path = open_containers(&text.as_bytes()[..offset]);

    let mut message = String::new();
    if let Some(location) = describe_path(&path) {
        message.push_str(&location);
        message.push_str(": ");
    }
    match non_finite_literal(text, offset) {
        Some(literal) => message.push_str(&format!(
            "{literal} is not valid JSON, write the value as a finite number \
             (serde_json: {error})"
        )),
        None => message.push_str(&format!(
            "the file is not valid JSON: {error}, so check that the file is complete and \
             well-formed"
        )),
    }
    message
}

/// Converts serde_json's 1-based line and column to the byte offset of the offending byte,
/// clamped to the text.
///
/// serde_json counts the column in bytes from 1, and reports column 0 at the end of a line.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.bytes()
            .enumerate()
            .filter(|&(_, byte)| byte == b'\n')
            .nth(line - 2)
            .map_or(text.len(), |(position, _)| position + 1)
    };
    (line_start + column.saturating_sub(1)).min(text.len())
}

/// Returns the containers open at the end of `prefix`, outermost first.
fn open_containers(prefix: &[u8]) -> Vec<Step> {
    let mut path: Vec<Step> = Vec::new();
    // Whether the next string in the innermost object is a key rather than a value.
    let mut expect_key = false;
    let mut i = 0;
    while i < prefix.len() {
        match prefix[i] {
            b'[' => {
                path.push(Step::Index(0));
                expect_key = false;
            }
            b'{' => {
                path.push(Step::Key(None));
                expect_key = true;
            }
            b']' | b'}' => {
                path.pop();
                expect_key = false;
            }
            b',' => match path.last_mut() {
                Some(Step::Index(index)) => *index += 1,
                Some(Step::Key(key)) => {
                    *key = None;
                    expect_key = true;
                }
                None => {}
            },
            b'"' => {
                let start = i + 1;
                i = start;
                while i < prefix.len() && prefix[i] != b'"' {
                    // A backslash escapes the next byte, which may be a quote.
                    i += if prefix[i] == b'\\' { 2 } else { 1 };
                }
                if expect_key {
                    if let Some(Step::Key(key)) = path.last_mut() {
                        let end = i.min(prefix.len());
                        *key = Some(String::from_utf8_lossy(&prefix[start..end]).into_owned());
                    }
                    expect_key = false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    path
}

/// Names the entry in the words of the loaders: `entry 3` in a results list, `` `annotations`
/// entry 3 `` in a ground-truth object, each followed by the field when one is open.
fn describe_path(path: &[Step]) -> Option<String> {
    let (entry, rest) = match path {
        [Step::Index(index), rest @ ..] => (format!("entry {index}"), rest),
        [Step::Key(Some(list)), Step::Index(index), rest @ ..] => {
            (format!("`{list}` entry {index}"), rest)
        }
        [Step::Key(Some(key)), ..] => return Some(format!("field `{key}`")),
        _ => return None,
    };
    match rest.first() {
        Some(Step::Key(Some(field))) => Some(format!("{entry}, field `{field}`")),
        _ => Some(entry),
    }
}

/// Returns the literal at or just before `offset` if it is one that Python's `json` module
/// writes for a non-finite float.
fn non_finite_literal(text: &str, offset: usize) -> Option<&'static str> {
    let bytes = text.as_bytes();
    let start = offset.saturating_sub(2);
    let end = (offset + 1).min(bytes.len());
    (start..end).find_map(|position| {
        let rest = &bytes[position..];
        ["NaN", "-Infinity", "Infinity"]
            .into_iter()
            .find(|literal| rest.starts_with(literal.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(text: &str) -> String {
        let error = serde_json::from_str::<serde::de::IgnoredAny>(text).unwrap_err();
        describe_syntax_error(text, &error)
    }

    #[test]
    fn nan_score_in_results_names_entry_and_field() {
        let text = "[{\"image_id\": 1, \"score\": 0.5},\n {\"image_id\": 1, \"score\": NaN}]";
        let message = describe(text);

        assert!(
            message.starts_with("entry 1, field `score`: NaN"),
            "{message}"
        );
    }

    #[test]
    fn infinity_in_truth_names_list_and_entry() {
        let text = r#"{"images": [{"id": 1}], "annotations": [{"id": 1}, {"area": -Infinity}]}"#;
        let message = describe(text);

        assert!(
            message.starts_with("`annotations` entry 1, field `area`: -Infinity"),
            "{message}"
        );
    }

    #[test]
    fn truncated_results_names_last_entry() {
        let text = r#"[{"bbox": [1, 2, 3, 4]}, {"bbox": [1, 2"#;
        let message = describe(text);

        assert!(message.starts_with("entry 1, field `bbox`"), "{message}");
        assert!(message.contains("not valid JSON"), "{message}");
    }

    #[test]
    fn escaped_quote_in_key_string_is_skipped() {
        let text = r#"[{"na\"me": "a, b", "x": }]"#;
        let message = describe(text);

        assert!(message.starts_with("entry 0, field `x`"), "{message}");
    }

    #[test]
    fn error_before_any_entry_has_no_location() {
        let message = describe("");

        assert!(
            message.starts_with("the file is not valid JSON"),
            "{message}"
        );
    }
}
