//! Reading HTML as far as a web view without script needs: start tags and
//! their attributes, an element's text or raw content, and forms with the
//! fields a browser would submit.

/// A start tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Tag {
    /// Lowercase.
    pub name: String,
    /// Names lowercase, values with character references decoded.
    pub attrs: Vec<(String, String)>,
    /// Where the element's content begins: just after the `>`.
    pub content_start: usize,
}

impl Tag {
    /// The value of attribute `name` (lowercase).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(attr, _)| attr == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether the tag has attribute `name`, with or without a value.
    pub fn has(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }

    /// Whether `class` lists `class`.
    pub fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|classes| classes.split_ascii_whitespace().any(|c| c == class))
    }
}

/// The start tags of `html`, in order. Comments are skipped, and so is the
/// raw text of `script` and `style` (it may hold a `<`).
pub(super) fn tags(html: &str) -> Vec<Tag> {
    let mut tags = Vec::new();
    let mut at = 0;
    while let Some(offset) = html[at..].find('<') {
        let open = at + offset + 1;
        let rest = &html[open..];
        if rest.starts_with("!--") {
            at = rest.find("-->").map_or(html.len(), |end| open + end + 3);
            continue;
        }
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            at = open;
            continue;
        }
        let Some(tag) = start_tag(html, open) else {
            break;
        };
        at = tag.content_start;
        if tag.name == "script" || tag.name == "style" {
            at = close_of(html, &tag).unwrap_or(html.len());
        }
        tags.push(tag);
    }
    tags
}

/// The element's content as written (a script's JSON): up to the first
/// end tag of its name, since the elements read here do not nest.
pub(super) fn raw_content<'a>(html: &'a str, tag: &Tag) -> &'a str {
    let end = close_of(html, tag).unwrap_or(html.len());
    &html[tag.content_start..end]
}

/// The element's text (as the DOM's `textContent`, white space
/// collapsed): tags dropped, references decoded.
pub(super) fn text(html: &str, tag: &Tag) -> String {
    let mut bare = String::new();
    let mut in_tag = false;
    for c in raw_content(html, tag).chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => bare.push(c),
            _ => {}
        }
    }
    decode(&bare)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A form and the fields a browser would submit from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Form {
    /// The `<form>` tag.
    pub tag: Tag,
    /// `name` and `value` of its inputs, in order.
    pub fields: Vec<(String, String)>,
}

impl Form {
    /// `action` as written (empty: the page's own address).
    pub fn action(&self) -> &str {
        self.tag.attr("action").unwrap_or_default()
    }

    /// Whether the form is sent as a POST (else a GET).
    pub fn posts(&self) -> bool {
        self.tag
            .attr("method")
            .is_some_and(|method| method.eq_ignore_ascii_case("post"))
    }

    /// Fills field `name`, as a person typing into it.
    pub fn fill(&mut self, name: &str, value: &str) {
        match self.fields.iter_mut().find(|(field, _)| field == name) {
            Some((_, old)) => *old = value.to_owned(),
            None => self.fields.push((name.to_owned(), value.to_owned())),
        }
    }
}

/// The forms of `html` with their `<input>` fields. Buttons are left out
/// (none of the forms read here names its button), and so are check boxes
/// and radios that are not checked.
pub(super) fn forms(html: &str) -> Vec<Form> {
    let all = tags(html);
    all.iter()
        .filter(|tag| tag.name == "form")
        .map(|form| {
            let end = close_of(html, form).unwrap_or(html.len());
            let fields = all
                .iter()
                // An input's content starts just after its `>`: at `end`
                // when it is the form's last.
                .filter(|tag| {
                    tag.name == "input" && (form.content_start..=end).contains(&tag.content_start)
                })
                .filter(|input| {
                    let kind = input.attr("type").unwrap_or("text").to_ascii_lowercase();
                    match kind.as_str() {
                        "submit" | "button" | "reset" | "image" | "file" => false,
                        "checkbox" | "radio" => input.has("checked"),
                        _ => true,
                    }
                })
                .filter_map(|input| {
                    let name = input.attr("name").filter(|name| !name.is_empty())?;
                    Some((
                        name.to_owned(),
                        input.attr("value").unwrap_or_default().to_owned(),
                    ))
                })
                .collect();
            Form {
                tag: form.clone(),
                fields,
            }
        })
        .collect()
}

/// Decodes character references: the named ones pages here use, and
/// numeric ones (`&#10;`, `&#x27;`); anything else stays as written.
pub(super) fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let reference = rest
            .find(';')
            .filter(|end| *end <= 10)
            .and_then(|end| Some((reference(&rest[1..end])?, end)));
        match reference {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn reference(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// Where the first end tag of `tag`'s name after its start begins.
fn close_of(html: &str, tag: &Tag) -> Option<usize> {
    // ASCII lowercasing keeps every byte where it was.
    let rest = html[tag.content_start..].to_ascii_lowercase();
    rest.find(&format!("</{}", tag.name))
        .map(|end| tag.content_start + end)
}

/// The tag whose name starts at `from` (just after its `<`), or `None`
/// when it is cut short.
fn start_tag(html: &str, from: usize) -> Option<Tag> {
    let bytes = html.as_bytes();
    let name_end = scan(bytes, from, |b| {
        b.is_ascii_whitespace() || b == b'/' || b == b'>'
    });
    let name = html[from..name_end].to_ascii_lowercase();
    let mut attrs = Vec::new();
    let mut at = name_end;
    loop {
        at = scan(bytes, at, |b| !(b.is_ascii_whitespace() || b == b'/'));
        if *bytes.get(at)? == b'>' {
            return Some(Tag {
                name,
                attrs,
                content_start: at + 1,
            });
        }
        let attr_end = scan(bytes, at, |b| {
            b.is_ascii_whitespace() || matches!(b, b'=' | b'>' | b'/')
        });
        let attr = html[at..attr_end].to_ascii_lowercase();
        at = scan(bytes, attr_end, |b| !b.is_ascii_whitespace());
        let mut value = "";
        if bytes.get(at) == Some(&b'=') {
            at = scan(bytes, at + 1, |b| !b.is_ascii_whitespace());
            match *bytes.get(at)? {
                quote @ (b'"' | b'\'') => {
                    let end = scan(bytes, at + 1, |b| b == quote);
                    bytes.get(end)?;
                    value = &html[at + 1..end];
                    at = end + 1;
                }
                _ => {
                    let end = scan(bytes, at, |b| b.is_ascii_whitespace() || b == b'>');
                    value = &html[at..end];
                    at = end;
                }
            }
        }
        attrs.push((attr, decode(value)));
    }
}

/// The first index from `from` whose byte satisfies `stop`, or the end.
fn scan(bytes: &[u8], from: usize, stop: impl Fn(u8) -> bool) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|b| stop(*b)))
        .map_or(bytes.len(), |offset| from + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_attributes_quoted_either_way_or_not_at_all() {
        let tags = tags("<P><h1 ID='ps-screen' data-screen=\"pay\" hidden class=a>Hi</h1>");
        assert_eq!(tags.len(), 2);
        let h1 = &tags[1];
        assert_eq!(h1.name, "h1");
        assert_eq!(h1.attr("id"), Some("ps-screen"));
        assert_eq!(h1.attr("data-screen"), Some("pay"));
        assert!(h1.has("hidden"));
        assert!(h1.has_class("a"));
        assert_eq!(h1.attr("title"), None);
    }

    #[test]
    fn skips_comments_and_the_raw_text_of_scripts() {
        let html = "<!-- <h1 id=x> --><script>if (a <b) {}</script><b>bold</b>";
        let names: Vec<String> = tags(html).into_iter().map(|tag| tag.name).collect();
        assert_eq!(names, ["script", "b"]);
    }

    #[test]
    fn reads_text_as_a_person_would() {
        let html = "<h1>付款成功\n <span class=\"en\">Paid &amp; done&#33;</span></h1>";
        let h1 = &tags(html)[0];
        assert_eq!(text(html, h1), "付款成功 Paid & done!");
    }

    #[test]
    fn decodes_references_and_leaves_the_rest() {
        assert_eq!(decode("a&lt;b&#13;&#10;&#x41;&quot;"), "a<b\r\nA\"");
        assert_eq!(decode("R&D & &unknown; &#xZZ;"), "R&D & &unknown; &#xZZ;");
    }

    #[test]
    fn collects_what_a_form_submits() {
        let html = "<form method=\"post\" action=\"/next\" class=\"fields back\">\
            <input type=\"hidden\" name=\"token\" value=\"t&amp;1\">\
            <input class=\"field\" id=\"phone\" value=\"135\" readonly>\
            <input name=\"cardNo\" required>\
            <input type=\"radio\" name=\"app\" value=\"a\"><input type=\"radio\" name=\"app\" value=\"b\" checked>\
            <button type=\"submit\" name=\"go\" value=\"1\">Go</button>\
            <input type=\"submit\" name=\"also\" value=\"x\"></form>\
            <form><input name=\"other\" value=\"o\"></form>";
        let mut forms = forms(html);
        assert_eq!(forms.len(), 2);
        let form = &mut forms[0];
        assert!(form.posts());
        assert_eq!(form.action(), "/next");
        assert!(form.tag.has_class("back"));
        form.fill("cardNo", "6216");
        assert_eq!(
            form.fields,
            [
                ("token".to_owned(), "t&1".to_owned()),
                ("cardNo".to_owned(), "6216".to_owned()),
                ("app".to_owned(), "b".to_owned()),
            ]
        );
        assert!(!forms[1].posts());
        assert_eq!(forms[1].action(), "");
        assert_eq!(forms[1].fields, [("other".to_owned(), "o".to_owned())]);
    }

    #[test]
    fn a_tag_cut_short_ends_the_reading() {
        assert_eq!(tags("<a href=\"x").len(), 0);
        assert_eq!(tags("<a href=x").len(), 0);
        assert_eq!(tags("<i>x</i><a title='").len(), 1);
        assert_eq!(tags("a < b <").len(), 0);
    }
}
