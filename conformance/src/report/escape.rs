//! Escaping for the page. Everything a result carries — comments, the
//! implementation's messages, its stderr, known-failures comments, even its
//! name — is data from elsewhere and may hold markup; it reaches the page
//! only through [`html`] (text and attribute values alike).

/// `s` safe as HTML text or as a double- or single-quoted attribute value.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` as a fragment identifier part: letters, digits, `-`, `_`, `.` kept,
/// everything else percent-encoded (so it is also safe in an attribute).
pub fn id(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            html(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(html("plain – text"), "plain – text");
    }

    #[test]
    fn ids_keep_only_safe_bytes() {
        assert_eq!(id("signal-v3"), "signal-v3");
        assert_eq!(id("a b\"<"), "a%20b%22%3C");
    }
}
