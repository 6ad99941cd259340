//! The one-file HTML report: scores, plots, lineage, sample overlays and the run's parameters, with every image inlined as a `data:` URI.
use std::fmt::Write as _;

use base64::Engine;

use crate::eval::{edge_objects, pr_cells, Scores, Value, PR_HEADER};

/// Everything the report shows; images are PNG bytes.
#[derive(Debug, Clone, Default)]
pub struct ReportParts {
    pub title: String,
    /// The evaluator's scores, when truth was given.
    pub scores: Option<Scores>,
    pub pr_curve: Option<Vec<u8>>,
    pub counts: Vec<u8>,
    pub lineage: Vec<u8>,
    /// Sample overlays: (frame, PNG).
    pub overlays: Vec<(usize, Vec<u8>)>,
    /// Whether the overlays mark misses and false cells (truth was given), and how.
    pub truth_note: Option<String>,
    /// (name, value) rows: command line, version, folders, frames, time, …
    pub params: Vec<(String, String)>,
    /// Parameter files, (path, text): the result's run record and any file given with `--params`.
    pub params_files: Vec<(String, String)>,
}

/// A PNG as a `data:` URI.
///
/// ```
/// assert_eq!(cellstream::render::report::data_uri(b"\x89PNG"), "data:image/png;base64,iVBORw==");
/// ```
pub fn data_uri(png: &[u8]) -> String {
    format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png))
}

/// Escapes text for HTML element content and attribute values. The slashes
/// of `://` become `&#47;`: a URL quoted in a parameter still reads the same
/// but is not a URL in the file.
///
/// ```
/// use cellstream::render::report::escape;
/// assert_eq!(escape("a<b & 'c'"), "a&lt;b &amp; &#39;c&#39;");
/// assert_eq!(escape("see https://x.org/a"), "see https:&#47;&#47;x.org/a");
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '/' if out.ends_with(':') || out.ends_with(":&#47;") => out.push_str("&#47;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; margin: 24px auto; max-width: 1200px; color: #222; padding: 0 16px; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 18px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 28px; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; font-size: 14px; }
td, th { padding: 3px 12px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.scores { display: flex; gap: 40px; flex-wrap: wrap; align-items: flex-start; }
.plots { display: flex; gap: 16px; flex-wrap: wrap; }
.plots img { box-sizing: border-box; width: calc(50% - 8px); min-width: 420px; max-width: 100%; border: 1px solid #eee; }
.lineage img { max-width: 100%; border: 1px solid #eee; }
.strip { display: grid; grid-template-columns: repeat(3, 1fr); gap: 10px; }
.strip figure { margin: 0; }
.strip img { width: 100%; display: block; image-rendering: pixelated; }
figcaption { font-size: 13px; color: #555; text-align: center; }
.legend { font-size: 13px; color: #444; }
.swatch { display: inline-block; width: 14px; height: 10px; vertical-align: middle; margin: 0 4px 0 12px; }
pre { background: #f6f6f6; padding: 8px; font-size: 12px; overflow-x: auto; }
td.param { white-space: pre-wrap; word-break: break-all; font-family: 'DejaVu Sans Mono', monospace; font-size: 12px; }
";

fn img(png: &[u8], alt: &str) -> String {
    format!("<img src=\"{}\" alt=\"{}\">", data_uri(png), escape(alt))
}

fn value_cell(v: &Value) -> String {
    match v {
        Value::Measure(Some(x)) if x.abs() > 1.0 => format!("{x:.1}"),
        Value::Measure(Some(x)) => format!("{x:.4}"),
        Value::Count(Some(n)) => n.to_string(),
        _ => "n/a".into(),
    }
}

fn scores_html(s: &Scores) -> String {
    // Measures in [0, 1] in one table; AOGM and the counts of errors and divisions in another.
    let (mut measures, mut counts) = (String::new(), String::new());
    for (k, v) in s.scalars() {
        if !crate::eval::shown_in_tables(&k) {
            continue;
        }
        let row = format!("<tr><td>{}</td><td class=\"num\">{}</td></tr>", escape(&k), value_cell(&v));
        if k.starts_with("AOGM") || matches!(v, Value::Count(_)) { counts.push_str(&row) } else { measures.push_str(&row) }
    }
    let mut out = format!(
        "<div class=\"scores\"><table><tr><th>measure</th><th>value</th></tr>{measures}</table>\
         <table><tr><th>errors, divisions</th><th>count</th></tr>{counts}</table>"
    );
    if !s.pr.is_empty() {
        let head: String = PR_HEADER.iter().map(|h| format!("<th>{}</th>", escape(h))).collect();
        let _ = write!(out, "<table><tr>{head}</tr>");
        for c in &s.pr {
            let [iou, rest @ ..] = pr_cells(c);
            let cells: String = rest.iter().map(|v| format!("<td class=\"num\">{v}</td>")).collect();
            let _ = write!(out, "<tr><td>{iou}</td>{cells}</tr>");
        }
        out.push_str("</table>");
    }
    let _ = write!(
        out,
        "</div><p class=\"legend\">Frames scored: {} with tracking truth, {} with segmentation truth, {} for object measures. \
         SEG, DET, TRA, LNK, AOGM and its parts as the Cell Tracking Challenge defines them; CT, TF, BC(i) as py-ctcmetrics 1.3.3; \
         n/a where the truth cannot support a measure.</p>",
        s.tra_frames, s.seg_frames, s.object_frames
    );
    if let Some(m) = s.edge_margin {
        let note = edge_objects(m);
        let _ = write!(out, "<p class=\"legend\">{} are left out of precision and recall, in the truth and the result.</p>", escape(&format!("{}{}", note[..1].to_uppercase(), &note[1..])));
    }
    out
}

/// The report as one self-contained HTML page: no script, no external
/// style sheet, font or image; every picture is a `data:` URI.
pub fn html(p: &ReportParts) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n",
        t = escape(&p.title)
    );
    if let Some(when) = p.params.iter().find(|r| r.0 == "generated") {
        let _ = writeln!(out, "<p class=\"sub\">cellstream report, {}</p>", escape(&when.1));
    }
    out.push_str("<h2>Scores</h2>\n");
    match &p.scores {
        Some(s) => out.push_str(&scores_html(s)),
        None => out.push_str("<p>No truth given (<code>--gt</code>): nothing to score against.</p>"),
    }
    out.push_str("\n<h2>Plots</h2>\n<div class=\"plots\">");
    if let Some(pr) = &p.pr_curve {
        out.push_str(&img(pr, "object precision, recall and F1 against the IoU threshold"));
    }
    out.push_str(&img(&p.counts, "cells per frame"));
    out.push_str("</div>\n<h2>Lineage</h2>\n<div class=\"lineage\">");
    out.push_str(&img(&p.lineage, "lineage forest"));
    out.push_str("</div>\n<h2>Overlays</h2>\n<div class=\"strip\">");
    for (t, png) in &p.overlays {
        let _ = write!(out, "<figure>{}<figcaption>frame {t}</figcaption></figure>", img(png, &format!("overlay of frame {t}")));
    }
    out.push_str("</div>\n<p class=\"legend\">Outline and label: the cell's track (one colour per track).");
    out.push_str("<span class=\"swatch\" style=\"background:#333;border:2px solid #fff;outline:1px solid #333;border-radius:50%;width:10px\"></span>white ring: a daughter in its first frame after a division.");
    if let Some(note) = &p.truth_note {
        let _ = write!(
            out,
            "<span class=\"swatch\" style=\"background:#ff2020\"></span>red fill: a false cell (no truth object); \
             <span class=\"swatch\" style=\"border:2px dashed #ff2020\"></span>dashed red outline: a missed truth object. {}",
            escape(note)
        );
    }
    out.push_str("</p>\n<h2>Run</h2>\n<table>");
    for (k, v) in &p.params {
        let _ = write!(out, "<tr><td>{}</td><td class=\"param\">{}</td></tr>", escape(k), escape(v));
    }
    out.push_str("</table>\n");
    for (path, text) in &p.params_files {
        let _ = writeln!(out, "<p>Parameters from <code>{}</code>:</p><pre>{}</pre>", escape(path), escape(text));
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::ObjectCounts;

    fn parts() -> ReportParts {
        let png = super::super::png_bytes(&image::RgbImage::new(2, 2));
        ReportParts {
            title: "01_RES <script>".into(),
            scores: Some(Scores {
                seg: Some(0.75),
                pr: vec![ObjectCounts { iou: 0.5, tp: 3, fp: 1, fn_: 0 }],
                ..Default::default()
            }),
            pr_curve: Some(png.clone()),
            counts: png.clone(),
            lineage: png.clone(),
            overlays: vec![(0, png.clone()), (5, png)],
            truth_note: Some("matched at IoU > 0.5".into()),
            params: vec![
                ("command".into(), "cellstream report --res 'a b' --params http://example.org/x".into()),
                ("generated".into(), "2024-01-02 03:04:05 UTC".into()),
            ],
            params_files: vec![("p.toml".into(), "url = \"https://example.org\"\nx = 1 < 2".into())],
        }
    }

    #[test]
    fn no_external_urls_and_only_data_images() {
        let h = html(&parts());
        for attr in ["src=\"", "href=\""] {
            for (i, _) in h.match_indices(attr) {
                assert!(h[i + attr.len()..].starts_with("data:image/png;base64,"), "{attr} not a data URI at {i}");
            }
        }
        assert_eq!(h.matches("<img ").count(), 5);
        assert!(!h.contains("<link") && !h.contains("<script") && !h.contains("@import") && !h.contains("url("));
        assert!(!h.contains("http://") && !h.contains("https://"), "a URL quoted in the parameters stays text");
        assert!(h.contains("http:&#47;&#47;example.org/x"));
    }

    #[test]
    fn scores_and_text_are_shown_and_escaped() {
        let h = html(&parts());
        assert!(h.contains("<td>SEG</td><td class=\"num\">0.7500</td>"), "SEG row");
        assert!(h.contains("<td>TRA</td><td class=\"num\">n/a</td>"), "n/a for missing measures");
        assert!(h.contains("<td class=\"num\">0.7500</td><td class=\"num\">1.0000</td>"), "P/R at 0.5");
        assert!(h.contains("01_RES &lt;script&gt;"));
        assert!(h.contains("x = 1 &lt; 2"));
        assert!(h.contains("frame 5"));
        let none = html(&ReportParts { scores: None, pr_curve: None, truth_note: None, ..parts() });
        assert!(none.contains("No truth given"));
        assert_eq!(none.matches("<img ").count(), 4);
    }
}
