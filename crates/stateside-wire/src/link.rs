//! Which URLs a handler may send the page to, by `Redirect` or `Download`:
//! `http:`, `https:` and relative ones. Checked once on the server, when the
//! handler sends the action, and again in the browser before it acts, with
//! this one function, so the two cannot disagree.
//!
//! Everything else is refused, `javascript:` above all (a redirect there runs
//! code in the page), and `data:`, `blob:`, `file:` or any other scheme with
//! it. The scheme is read the way browsers read it: tabs and newlines inside
//! the URL and control characters or spaces around it are ignored, and
//! letter case does not matter, so `" Java\tScript:"` is still
//! `javascript:`.

/// Whether `url` is `http:`, `https:` or relative (which includes
/// `//host/path`, taking the page's own scheme).
pub fn is_web_url(url: &str) -> bool {
    let cleaned: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    match scheme(&cleaned) {
        None => true,
        Some(scheme) => scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"),
    }
}

/// What stands before the first `:`, if that comes before any `/`, `?`,
/// `#` or `\`: the scheme of an absolute URL. `None` for a relative URL.
/// Something that is no valid scheme ("a b:c") is returned too, and so
/// refused, rather than guessing how a browser reads it.
fn scheme(url: &str) -> Option<&str> {
    let end = url.find([':', '/', '?', '#', '\\'])?;
    url[end..].starts_with(':').then(|| &url[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_and_relative_urls_pass() {
        for url in [
            "https://example.com/a?b#c",
            "HTTP://example.com",
            "/?from=redirect",
            "page.html",
            "../up",
            "?q=1",
            "#top",
            "//cdn.example.com/file.txt",
            "/a:b",
            "",
        ] {
            assert!(is_web_url(url), "{url}");
        }
    }

    #[test]
    fn every_other_scheme_is_refused_however_it_is_written() {
        for url in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "\u{1}javascript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox",
            "blob:https://example.com/uuid",
            "file:///etc/passwd",
            "a b:c",
        ] {
            assert!(!is_web_url(url), "{url:?}");
        }
    }
}
