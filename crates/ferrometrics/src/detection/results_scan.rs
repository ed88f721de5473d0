//! A byte-level reader for COCO results lists, the largest files the loaders see.
//!
//! It reads `[{"image_id": ..., "category_id": ..., "bbox": [...], "score": ...}, ...]` straight
//! into fixed-size records, without a JSON tree or a heap allocation per detection, and reads
//! the two halves of a large list on two threads. Numbers are parsed with Rust's `f64::from_str`,
//! which rounds correctly, as Python's `float` and serde_json's `float_roundtrip` do, so every
//! value has the same bits as on the serde path.
//!
//! The reader accepts a subset of JSON: keys without escapes, strings without `\u` escapes,
//! each field at most once. Anything else (a syntax error, an escaped key, a repeated field, an
//! integer id written as `1.0`) returns `None`, and the caller falls back to the serde loaders,
//! which accept or reject the file with their own messages. A compressed RLE segmentation
//! `{"size": [h, w], "counts": "..."}` is read in the scan; any other segmentation is cut out
//! as text and handed to serde, so its rules are the serde path's.

use std::borrow::Cow;

use rayon::prelude::*;

use super::coco_fast::RawSegmentation;
use super::mask::{CompressedRle, Segmentation};

/// The `bbox` field of one result as written in the file.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum BoxField {
    Absent,
    /// `null`, which serde reads as an absent optional field.
    Null,
    Empty,
    Four([f64; 4]),
    /// A list of one to three, or more than four, numbers.
    WrongLength,
}

/// The `segmentation` field of one result as written in the file.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SegmentationField<'a> {
    /// Absent or `null`.
    Absent,
    /// A compressed RLE `{"size": [height, width], "counts": "..."}`, read in the scan, with the
    /// string's escapes resolved.
    Compressed {
        height: u32,
        width: u32,
        counts: Cow<'a, str>,
    },
    /// Any other value, as the byte range of its text, for serde to read.
    Text(usize, usize),
}

/// One result entry: the fields the evaluation reads.
#[derive(Clone)]
pub(crate) struct ScannedResult<'a> {
    pub image_id: i64,
    pub category_id: i64,
    pub score: f64,
    pub bbox: BoxField,
    pub segmentation: SegmentationField<'a>,
}

impl ScannedResult<'_> {
    /// Converts the segmentation, if any, or returns `Err(())` when its content is invalid or
    /// serde rejects its text.
    pub(crate) fn segmentation(&self, text: &str) -> Result<Option<Segmentation>, ()> {
        match &self.segmentation {
            SegmentationField::Absent => Ok(None),
            SegmentationField::Compressed {
                height,
                width,
                counts,
            } => CompressedRle::new(*height, *width, counts)
                .map(|mask| Some(Segmentation::Compressed(mask)))
                .map_err(|_| ()),
            SegmentationField::Text(start, end) => {
                let raw: RawSegmentation =
                    serde_json::from_str(&text[*start..*end]).map_err(|_| ())?;
                raw.convert().map(Some).ok_or(())
            }
        }
    }
}

/// Lists shorter than this are read on one thread; splitting costs more than it saves there.
const PARALLEL_BYTES: usize = 1 << 20;

/// The converted entries of a results list, in two halves when it was read on two threads.
pub(crate) struct Halves<T> {
    first: Vec<T>,
    second: Vec<T>,
}

impl<T: Send> Halves<T> {
    /// Joins the halves into one list. `renumber` receives each record of the second half with
    /// the number of entries before it, to correct what depends on the entry's position.
    pub(crate) fn join(self, renumber: impl Fn(&mut T, usize) + Sync) -> Vec<T> {
        let Self {
            mut first,
            mut second,
        } = self;
        let before = first.len();
        second
            .par_iter_mut()
            .with_min_len(4096)
            .for_each(|record| renumber(record, before));
        first.append(&mut second);
        first
    }
}

/// Reads a results list and converts each entry with `convert`, in file order, or returns
/// `None` for the serde loaders to handle when the text or one conversion fails.
///
/// `convert` gets the entry's position in the list, except on the second half of a list read
/// on two threads, where it gets the position within that half until [`Halves::join`] fixes
/// it. The halves are returned unjoined, so that the caller can free the text first.
pub(crate) fn scan_results<'a, T: Send>(
    text: &'a str,
    convert: impl Fn(usize, &ScannedResult<'a>) -> Option<T> + Sync,
) -> Option<Halves<T>> {
    let bytes = text.as_bytes();
    let mut reader = Reader {
        text,
        bytes,
        position: 0,
    };
    reader.skip_whitespace();
    reader.expect(b'[')?;
    reader.skip_whitespace();
    if reader.peek()? == b']' {
        reader.position += 1;
        return reader.at_end().then(|| Halves {
            first: Vec::new(),
            second: Vec::new(),
        });
    }

    let middle = reader.position + (bytes.len() - reader.position) / 2;
    let speculative_start = (bytes.len() >= PARALLEL_BYTES)
        .then(|| entry_start_after(bytes, middle))
        .flatten();

    let (first, second) = match speculative_start {
        Some(start) => rayon::join(
            || reader.clone().entries_until(middle, &convert),
            || {
                Reader {
                    text,
                    bytes,
                    position: start,
                }
                .entries_until(usize::MAX, &convert)
            },
        ),
        None => (reader.clone().entries_until(usize::MAX, &convert), None),
    };
    let (entries, stop) = first?;
    match stop {
        Stop::End(end) => {
            reader.position = end;
            reader.at_end().then_some(Halves {
                first: entries,
                second: Vec::new(),
            })
        }
        Stop::Before(position) => {
            // The second half is usable only if it began exactly where the first half's next
            // entry begins. A split point inside a string or a nested value starts elsewhere.
            let rest = match second {
                Some((rest, Stop::End(end))) if speculative_start == Some(position) => {
                    reader.position = end;
                    rest
                }
                _ => {
                    let (rest, stop) = Reader {
                        text,
                        bytes,
                        position,
                    }
                    .entries_until(usize::MAX, &convert)?;
                    let Stop::End(end) = stop else {
                        return None;
                    };
                    reader.position = end;
                    rest
                }
            };
            reader.at_end().then_some(Halves {
                first: entries,
                second: rest,
            })
        }
    }
}

/// Reads the first entry of a results list: `Some(None)` for an empty list, `None` if the
/// list does not start with an entry that the scan reads.
pub(crate) fn scan_first(text: &str) -> Option<Option<ScannedResult<'_>>> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        position: 0,
    };
    reader.skip_whitespace();
    reader.expect(b'[')?;
    reader.skip_whitespace();
    if reader.peek()? == b']' {
        return Some(None);
    }
    reader.entry().map(Some)
}

/// Returns the first position at or after `from` that looks like the start of a list entry:
/// a `{` that follows `}` and `,` with only whitespace between them.
///
/// The guess can be wrong (the pattern may sit inside a string), which `scan_results` detects.
fn entry_start_after(bytes: &[u8], from: usize) -> Option<usize> {
    let mut position = from;
    while position < bytes.len() {
        let offset = bytes[position..].iter().position(|&b| b == b'{')?;
        let brace = position + offset;
        let mut before = bytes[..brace]
            .iter()
            .rev()
            .copied()
            .filter(|b| !b.is_ascii_whitespace());
        if before.next() == Some(b',') && before.next() == Some(b'}') {
            return Some(brace);
        }
        position = brace + 1;
    }
    None
}

/// A JSON number token.
struct Number<'a> {
    text: &'a str,
    /// Whether the token has neither a fraction nor an exponent.
    integer: bool,
    /// The value, when the fast path computes it exactly.
    exact: Option<f64>,
}

/// 10^0 to 10^22, each exact in f64.
const POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The position at which a run of entries stopped.
enum Stop {
    /// Before the entry that starts at this position, which is at or after the requested stop.
    Before(usize),
    /// At the end of the list; the position is just after the closing `]`.
    End(usize),
}

#[derive(Clone)]
struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.position += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.position += 1)
    }

    fn at_end(&mut self) -> bool {
        self.skip_whitespace();
        self.position == self.bytes.len()
    }

    /// Reads entries from the current position, an entry's `{`, and stops before the first
    /// entry that starts at or after `stop`, or at the end of the list.
    fn entries_until<T>(
        mut self,
        stop: usize,
        convert: &impl Fn(usize, &ScannedResult<'a>) -> Option<T>,
    ) -> Option<(Vec<T>, Stop)> {
        // About one entry per 64 bytes overestimates COCO results lists, whose box entries take
        // 80 bytes or more; the untouched tail of the buffer costs address space, not memory.
        let mut entries = Vec::with_capacity((self.bytes.len() - self.position) / 64 + 1);
        loop {
            let entry = self.entry()?;
            entries.push(convert(entries.len(), &entry)?);
            self.skip_whitespace();
            match self.peek()? {
                b',' => {
                    self.position += 1;
                    self.skip_whitespace();
                    if self.position >= stop {
                        return Some((entries, Stop::Before(self.position)));
                    }
                }
                b']' => return Some((entries, Stop::End(self.position + 1))),
                _ => return None,
            }
        }
    }

    fn entry(&mut self) -> Option<ScannedResult<'a>> {
        self.expect(b'{')?;
        let mut image_id = None;
        let mut category_id = None;
        let mut score = None;
        let mut bbox = BoxField::Absent;
        let mut segmentation = SegmentationField::Absent;
        let mut segmentation_seen = false;
        self.skip_whitespace();
        if self.peek()? == b'}' {
            return None;
        }
        loop {
            self.skip_whitespace();
            let key = self.key()?;
            self.skip_whitespace();
            self.expect(b':')?;
            self.skip_whitespace();
            match key {
                b"image_id" if image_id.is_none() => image_id = Some(self.integer()?),
                b"category_id" if category_id.is_none() => category_id = Some(self.integer()?),
                b"score" if score.is_none() => score = Some(self.number()?),
                b"bbox" if bbox == BoxField::Absent => bbox = self.bbox()?,
                b"segmentation" if !segmentation_seen => {
                    segmentation_seen = true;
                    if !self.literal(b"null") {
                        let start = self.position;
                        segmentation = match self.compressed_rle() {
                            Some(field) => field,
                            None => {
                                self.position = start;
                                self.skip_value(0)?;
                                SegmentationField::Text(start, self.position)
                            }
                        };
                    }
                }
                b"image_id" | b"category_id" | b"score" | b"bbox" | b"segmentation" => return None,
                _ => self.skip_value(0)?,
            }
            self.skip_whitespace();
            match self.peek()? {
                b',' => self.position += 1,
                b'}' => {
                    self.position += 1;
                    break;
                }
                _ => return None,
            }
        }
        Some(ScannedResult {
            image_id: image_id?,
            category_id: category_id?,
            score: score?,
            bbox,
            segmentation,
        })
    }

    /// Reads a key without escapes and returns its bytes.
    fn key(&mut self) -> Option<&'a [u8]> {
        self.expect(b'"')?;
        let start = self.position;
        let length = self.bytes[start..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        let end = start + length;
        if self.bytes[end] != b'"' {
            return None;
        }
        self.position = end + 1;
        Some(&self.bytes[start..end])
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        let matches = self.bytes[self.position..].starts_with(word);
        if matches {
            self.position += word.len();
        }
        matches
    }

    /// Reads a JSON number, checking its grammar
    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number_token(&mut self) -> Option<Number<'a>> {
        let bytes = self.bytes;
        let start = self.position;
        let mut at = start;
        // The decimal digits as an integer, while they fit, and the power of ten to scale by.
        let mut mantissa: u64 = 0;
        let mut digit_count = 0usize;
        let mut scale: i64 = 0;
        let mut digits = |at: &mut usize, fraction: bool| {
            let from = *at;
            while let Some(&digit) = bytes.get(*at).filter(|b| b.is_ascii_digit()) {
                if digit_count < 19 {
                    mantissa = mantissa * 10 + u64::from(digit - b'0');
                    if mantissa > 0 {
                        digit_count += 1;
                    }
                    if fraction {
                        scale -= 1;
                    }
                } else {
                    digit_count += 1;
                }
                *at += 1;
            }
            *at > from
        };
        let negative = bytes.get(at) == Some(&b'-');
        if negative {
            at += 1;
        }
        match bytes.get(at)? {
            b'0' => at += 1,
            b'1'..=b'9' => {
                digits(&mut at, false);
            }
            _ => return None,
        }
        let mut integer = true;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            integer = false;
            if !digits(&mut at, true) {
                return None;
            }
        }
        let mut exponent_given = false;
        if let Some(b'e' | b'E') = bytes.get(at) {
            at += 1;
            integer = false;
            exponent_given = true;
            if let Some(b'+' | b'-') = bytes.get(at) {
                at += 1;
            }
            let from = at;
            while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            if at == from {
                return None;
            }
        }
        self.position = at;
        // Clinger's fast path: a mantissa below 2^53 and a power of ten up to 10^22 are both
        // exact in f64, so one multiplication or division rounds correctly, as the full parser
        // would. Other numbers take `f64::from_str`.
        let exact = (digit_count < 19 && !exponent_given && mantissa < 1 << 53 && scale >= -22)
            .then(|| {
                let value = mantissa as f64 / POWERS_OF_TEN[(-scale) as usize];
                if negative {
                    -value
                } else {
                    value
                }
            });
        Some(Number {
            // The token holds only ASCII bytes, so both ends are character boundaries.
            text: &self.text[start..at],
            integer,
            exact,
        })
    }

    /// Reads an integer that fits in an `i64`, as serde reads an `i64` field.
    fn integer(&mut self) -> Option<i64> {
        let number = self.number_token()?;
        // serde_json reads `-0` as the float -0.0, which an integer field rejects.
        if !number.integer || number.text.starts_with("-0") {
            return None;
        }
        number.text.parse().ok()
    }

    /// Reads a finite number, correctly rounded to `f64`.
    fn number(&mut self) -> Option<f64> {
        let number = self.number_token()?;
        let value = match number.exact {
            Some(value) => value,
            None => number.text.parse().ok()?,
        };
        value.is_finite().then_some(value)
    }

    fn bbox(&mut self) -> Option<BoxField> {
        if self.literal(b"null") {
            return Some(BoxField::Null);
        }
        self.expect(b'[')?;
        self.skip_whitespace();
        if self.peek()? == b']' {
            self.position += 1;
            return Some(BoxField::Empty);
        }
        let mut values = [0.0; 4];
        let mut count = 0;
        loop {
            self.skip_whitespace();
            let value = self.number()?;
            if count < 4 {
                values[count] = value;
            }
            count += 1;
            self.skip_whitespace();
            match self.peek()? {
                b',' => self.position += 1,
                b']' => {
                    self.position += 1;
                    break;
                }
                _ => return None,
            }
        }
        Some(if count == 4 {
            BoxField::Four(values)
        } else {
            BoxField::WrongLength
        })
    }

    /// Skips one value of any kind, checking its syntax as strictly as serde does.
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        // Deeper nesting goes to serde, which limits recursion itself.
        if depth > 64 {
            return None;
        }
        match self.peek()? {
            b'"' => self.skip_string(),
            b'{' => {
                self.position += 1;
                self.skip_whitespace();
                if self.peek()? == b'}' {
                    self.position += 1;
                    return Some(());
                }
                loop {
                    self.skip_whitespace();
                    self.skip_string()?;
                    self.skip_whitespace();
                    self.expect(b':')?;
                    self.skip_whitespace();
                    self.skip_value(depth + 1)?;
                    self.skip_whitespace();
                    match self.peek()? {
                        b',' => self.position += 1,
                        b'}' => {
                            self.position += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.position += 1;
                self.skip_whitespace();
                if self.peek()? == b']' {
                    self.position += 1;
                    return Some(());
                }
                loop {
                    self.skip_whitespace();
                    self.skip_value(depth + 1)?;
                    self.skip_whitespace();
                    match self.peek()? {
                        b',' => self.position += 1,
                        b']' => {
                            self.position += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.literal(b"true").then_some(()),
            b'f' => self.literal(b"false").then_some(()),
            b'n' => self.literal(b"null").then_some(()),
            _ => self.number_token().map(|_| ()),
        }
    }

    /// Skips a string, checking it as serde does. Strings with a `\u` escape go to serde,
    /// which checks surrogate pairs.
    fn skip_string(&mut self) -> Option<()> {
        self.string().map(|_| ())
    }

    /// Reads a string whose escapes are among `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r` and
    /// `\t`, and returns its value.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.expect(b'"')?;
        let start = self.position;
        let special = |b: &u8| *b == b'"' || *b == b'\\' || *b < 0x20;
        let length = self.bytes[start..].iter().position(special)?;
        let mut end = start + length;
        if self.bytes[end] == b'"' {
            self.position = end + 1;
            return Some(Cow::Borrowed(&self.text[start..end]));
        }

        let mut value = String::with_capacity(length + 16);
        let mut from = start;
        loop {
            // No byte before `end` is special, and the byte at `end` is ASCII, so both ends are
            // character boundaries.
            value.push_str(&self.text[from..end]);
            match self.bytes[end] {
                b'"' => {
                    self.position = end + 1;
                    return Some(Cow::Owned(value));
                }
                b'\\' => {
                    let escaped = match self.bytes.get(end + 1)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        _ => return None,
                    };
                    value.push(escaped);
                    from = end + 2;
                }
                _ => return None,
            }
            end = from + self.bytes.get(from..)?.iter().position(special)?;
        }
    }

    /// Reads the string of a compressed RLE. It skips the check for control characters, which
    /// [`CompressedRle::new`] rejects with every other byte outside `'0'..='o'`, and so finds the
    /// end of a plain string with `memchr`.
    fn counts_string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.position + 1;
        if self.peek()? != b'"' {
            return None;
        }
        let length = memchr::memchr2(b'"', b'\\', self.bytes.get(start..)?)?;
        let end = start + length;
        if self.bytes[end] == b'"' {
            self.position = end + 1;
            return Some(Cow::Borrowed(&self.text[start..end]));
        }
        self.string()
    }

    /// Reads `{"size": [height, width], "counts": "..."}` with both keys once, in either order,
    /// and no other key. Returns `None` for any other value, which the caller then skips and
    /// hands to serde.
    fn compressed_rle(&mut self) -> Option<SegmentationField<'a>> {
        self.expect(b'{')?;
        let mut size = None;
        let mut counts = None;
        loop {
            self.skip_whitespace();
            let key = self.key()?;
            self.skip_whitespace();
            self.expect(b':')?;
            self.skip_whitespace();
            match key {
                b"size" if size.is_none() => size = Some(self.mask_size()?),
                b"counts" if counts.is_none() => counts = Some(self.counts_string()?),
                _ => return None,
            }
            self.skip_whitespace();
            match self.peek()? {
                b',' => self.position += 1,
                b'}' => {
                    self.position += 1;
                    break;
                }
                _ => return None,
            }
        }
        let (height, width) = size?;
        Some(SegmentationField::Compressed {
            height,
            width,
            counts: counts?,
        })
    }

    /// Reads `[height, width]`, two integers that fit in a `u32`.
    fn mask_size(&mut self) -> Option<(u32, u32)> {
        self.expect(b'[')?;
        self.skip_whitespace();
        let height = u32::try_from(self.integer()?).ok()?;
        self.skip_whitespace();
        self.expect(b',')?;
        self.skip_whitespace();
        let width = u32::try_from(self.integer()?).ok()?;
        self.skip_whitespace();
        self.expect(b']')?;
        Some((height, width))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scans `text` and checks that each entry gets its position in the list.
    fn scan(text: &str) -> Option<Vec<ScannedResult<'_>>> {
        let entries = scan_results(text, |index, entry| Some((index, entry.clone())))?
            .join(|(index, _), before| *index += before);
        for (position, (index, _)) in entries.iter().enumerate() {
            assert_eq!(*index, position, "entry position");
        }
        Some(entries.into_iter().map(|(_, entry)| entry).collect())
    }

    #[test]
    fn scan_reads_fields_and_skips_others() {
        let entries = scan(
            r#" [ {"image_id": 3, "extra": {"a": [1, "x},{", null, true, -2.5e-3]}, "category_id": -2,
                  "bbox": [1.5, 2e1, 0, 4], "score": 0.25} ] "#,
        )
        .unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].image_id, 3);
        assert_eq!(entries[0].category_id, -2);
        assert_eq!(entries[0].score, 0.25);
        assert!(entries[0].bbox == BoxField::Four([1.5, 20.0, 0.0, 4.0]));
        assert!(entries[0].segmentation == SegmentationField::Absent);
    }

    #[test]
    fn scan_rejects_what_serde_must_judge() {
        let cases = [
            r#"[{"image_id": 1.0, "category_id": 1, "score": 1, "bbox": [0, 0, 1, 1]}]"#,
            r#"[{"image_id": -0, "category_id": 1, "score": 1, "bbox": [0, 0, 1, 1]}]"#,
            r#"[{"image_id": 1, "image_id": 1, "category_id": 1, "score": 1}]"#,
            r#"[{"image\u005fid": 1, "category_id": 1, "score": 1}]"#,
            r#"[{"image_id": 1, "category_id": 1, "score": 01}]"#,
            r#"[{"image_id": 1, "category_id": 1, "score": 1e999}]"#,
            r#"[{"image_id": 1, "category_id": 1}]"#,
            r#"[{"image_id": 1, "category_id": 1, "score": 1},]"#,
            r#"[{"image_id": 1, "category_id": 1, "score": 1}] x"#,
            r#"[{"image_id": 1, "category_id": 1, "score": 1, "note": "a\qb"}]"#,
            r#"{"image_id": 1}"#,
        ];
        for text in cases {
            assert!(scan(text).is_none(), "{text}");
        }
    }

    #[test]
    fn number_fast_path_rounds_as_from_str() {
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "-0.0",
            "0.1",
            "0.3",
            "450.99",
            "1e5",
            "2.5E-3",
            "9007199254740993",
            "123456789012345678901",
            "0.000000000000000000000000001",
            "1.7976931348623157e308",
            "4.9e-324",
            "0.62055",
            "-17.125",
        ]
        .iter()
        .map(|text| text.to_string())
        .collect();
        let mut state = 12345u64;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let integer = (state >> 40) % 100_000;
            let fraction = (state >> 8) % 1_000_000_000;
            let width = (state % 9 + 1) as usize;
            let fraction = format!("{fraction:09}");
            texts.push(format!("{integer}.{}", &fraction[..width]));
        }
        for text in texts {
            let mut reader = Reader {
                text: &text,
                bytes: text.as_bytes(),
                position: 0,
            };
            let value = reader.number().unwrap();
            let expected: f64 = text.parse().unwrap();
            assert_eq!(value.to_bits(), expected.to_bits(), "{text}");
            assert_eq!(reader.position, text.len(), "{text}");
        }
    }

    #[test]
    fn scan_box_field_kinds() {
        let entries = scan(
            r#"[{"image_id": 1, "category_id": 1, "score": 1, "bbox": []},
                {"image_id": 1, "category_id": 1, "score": 1, "bbox": null},
                {"image_id": 1, "category_id": 1, "score": 1, "bbox": [1, 2, 3]},
                {"image_id": 1, "category_id": 1, "score": 1,
                 "segmentation": {"size": [2, 2], "counts": "04"}}]"#,
        )
        .unwrap();
        assert!(entries[0].bbox == BoxField::Empty);
        assert!(entries[1].bbox == BoxField::Null);
        assert!(entries[2].bbox == BoxField::WrongLength);
        assert!(entries[3].bbox == BoxField::Absent);
        assert!(
            entries[3].segmentation
                == SegmentationField::Compressed {
                    height: 2,
                    width: 2,
                    counts: Cow::Borrowed("04"),
                }
        );
    }

    #[test]
    fn scan_reads_compressed_rle_segmentations() {
        let entries = scan(
            r#"[{"image_id": 1, "category_id": 1, "score": 1,
                 "segmentation": {"size": [10, 3], "counts": "57b0"}},
                {"image_id": 1, "category_id": 1, "score": 1,
                 "segmentation": { "counts" : "5\\7\/b0" , "size" : [ 10 , 3 ] }}]"#,
        )
        .unwrap();
        let expected = [
            SegmentationField::Compressed {
                height: 10,
                width: 3,
                counts: Cow::Borrowed("57b0"),
            },
            SegmentationField::Compressed {
                height: 10,
                width: 3,
                counts: Cow::Owned("5\\7/b0".to_owned()),
            },
        ];
        assert!(entries[0].segmentation == expected[0]);
        assert!(entries[1].segmentation == expected[1]);
    }

    #[test]
    fn scan_leaves_other_segmentations_to_serde() {
        let values = [
            r#"[[0, 0, 4, 0, 4, 4]]"#,
            r#"{"size": [2, 2], "counts": [0, 4]}"#,
            r#"{"size": [2.0, 2], "counts": "04"}"#,
            r#"{"size": [2, 2, 1], "counts": "04"}"#,
            r#"{"size": [2, 2], "counts": "04", "note": 1}"#,
            r#"{"size": [2, 2], "size": [2, 2], "counts": "04"}"#,
            r#"{"size": [2, 2], "counts": "0\u00344"}"#,
            r#"{"counts": "04"}"#,
        ];
        for value in values {
            let text = format!(
                r#"[{{"image_id": 1, "category_id": 1, "score": 1, "segmentation": {value}}}]"#
            );
            let entries = scan(&text);
            let Some(entries) = entries else {
                // `\u` escapes stop the whole scan; serde reads such files.
                assert!(value.contains("\\u"), "{value}");
                continue;
            };
            let start = text.find("\"segmentation\": ").unwrap() + 16;
            let end = start + value.len();
            assert!(
                entries[0].segmentation == SegmentationField::Text(start, end),
                "{value}"
            );
        }
    }

    #[test]
    fn scan_halves_agree_with_one_pass() {
        // Scores that contain the entry pattern inside a string push the guess off an entry.
        for note in ["},{", "plain"] {
            let mut text = String::from("[");
            for index in 0..40_000 {
                if index > 0 {
                    text.push_str(",\n");
                }
                text.push_str(&format!(
                    r#"{{"image_id": {}, "category_id": {}, "note": "{note}", "bbox": [{}.25, 1, 2, 3], "score": 0.{}}}"#,
                    index % 97,
                    index % 7,
                    index,
                    index + 1
                ));
            }
            text.push(']');
            assert!(text.len() >= PARALLEL_BYTES);
            let entries = scan(&text).unwrap();
            assert_eq!(entries.len(), 40_000, "{note}");
            for (index, entry) in entries.iter().enumerate() {
                assert_eq!(entry.image_id, (index % 97) as i64, "{note}");
                assert!(entry.bbox == BoxField::Four([index as f64 + 0.25, 1.0, 2.0, 3.0]));
            }
        }
    }
}
