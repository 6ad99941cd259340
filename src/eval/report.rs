//! Writing scores out: a table for the terminal, flat JSON, and a long-format CSV.
use std::fmt::Write as _;

use serde::ser::{SerializeMap, Serializer};

use super::{ObjectCounts, Scores, MAX_BC_OFFSET};

/// One scalar of the report: a measure or a count, possibly not computable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Measure(Option<f64>),
    Count(Option<i64>),
}

impl Value {
    fn cell(&self, decimals: Option<usize>) -> String {
        match (self, decimals) {
            (Value::Measure(Some(v)), Some(d)) => format!("{v:.d$}"),
            (Value::Measure(Some(v)), None) => format!("{v}"),
            (Value::Count(Some(v)), _) => v.to_string(),
            _ => String::new(),
        }
    }
}

impl serde::Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Measure(v) => v.serialize(s),
            Value::Count(v) => v.serialize(s),
        }
    }
}

impl Scores {
    /// The scalar measures in report order, under py-ctcmetrics' names
    /// (AOGM's parts as NS, FN, FP, ED, EA, EC).
    pub fn scalars(&self) -> Vec<(String, Value)> {
        use Value::{Count, Measure};
        let count = |v: Option<u64>| Count(v.map(|x| x as i64));
        let d = self.detection;
        let l = self.links;
        let g = self.aogm();
        let mut out: Vec<(String, Value)> = vec![
            ("SEG".into(), Measure(self.seg)),
            ("DET".into(), Measure(self.det)),
            ("TRA".into(), Measure(self.tra)),
            ("LNK".into(), Measure(self.lnk)),
            ("AOGM".into(), Measure(g.map(|g| g.aogm()))),
            ("AOGM_0".into(), Measure(g.map(|g| g.aogm_empty()))),
            ("NS".into(), count(d.map(|d| d.ns))),
            ("FN".into(), count(d.map(|d| d.fn_))),
            ("FP".into(), count(d.map(|d| d.fp))),
            ("ED".into(), count(l.map(|l| l.ed))),
            ("EA".into(), count(l.map(|l| l.ea))),
            ("EC".into(), count(l.map(|l| l.ec))),
            ("OP_CSB".into(), Measure(self.op_csb())),
            ("OP_CTB".into(), Measure(self.op_ctb())),
            ("CT".into(), Measure(self.ct)),
            ("TF".into(), Measure(self.tf)),
        ];
        for i in 0..=MAX_BC_OFFSET {
            out.push((format!("BC({i})"), Measure(self.bc(i))));
        }
        out.push(("gt_divisions".into(), Count(self.divisions.first().map(|d| d.truth_divisions()))));
        for i in 0..=MAX_BC_OFFSET {
            let d = self.divisions.get(i);
            out.push((format!("tp_div({i})"), Count(d.map(|d| d.tp))));
            out.push((format!("fp_div({i})"), Count(d.map(|d| d.fp))));
            out.push((format!("fn_div({i})"), Count(d.map(|d| d.fn_))));
        }
        out.push(("CCA".into(), Measure(self.cca)));
        for i in 0..=MAX_BC_OFFSET {
            out.push((format!("BIO({i})"), Measure(self.bio(i))));
        }
        for i in 0..=MAX_BC_OFFSET {
            out.push((format!("OP_CLB({i})"), Measure(self.op_clb(i))));
        }
        let a = self.association;
        let measure = |f: fn(&super::Association) -> Option<f64>| Measure(a.as_ref().and_then(f));
        let tally = |f: fn(&super::Association) -> u64| Count(a.as_ref().map(|a| f(a) as i64));
        out.extend([
            ("CHOTA".into(), measure(|a| a.chota)),
            ("HOTA".into(), measure(|a| a.hota)),
            ("MOTA".into(), measure(|a| a.mota)),
            ("IDSW".into(), tally(|a| a.idsw)),
            ("MULTI-ASSIGNMENTS".into(), tally(|a| a.multi_assignments)),
            ("MOTA_TP".into(), tally(|a| a.tp)),
            ("MOTA_FP".into(), tally(|a| a.fp)),
            ("MOTA_FN".into(), tally(|a| a.fn_)),
            ("MOTA_precision".into(), measure(|a| a.precision())),
            ("MOTA_recall".into(), measure(|a| a.recall())),
            ("IDF1".into(), measure(|a| a.idf1)),
            ("IDP".into(), measure(|a| a.idp)),
            ("IDR".into(), measure(|a| a.idr)),
            ("IDTP".into(), tally(|a| a.idtp)),
            ("IDFP".into(), tally(|a| a.idfp)),
            ("IDFN".into(), tally(|a| a.idfn)),
            ("MT".into(), measure(|a| a.mt)),
            ("ML".into(), measure(|a| a.ml)),
            ("FAF".into(), measure(|a| a.faf)),
        ]);
        let fg = self.foreground;
        out.push(("foreground_iou".into(), Measure(fg.and_then(|f| f.iou()))));
        out.push(("dice".into(), Measure(fg.and_then(|f| f.dice()))));
        out
    }
}

/// One point of the precision–recall report, as written to JSON.
#[derive(serde::Serialize)]
struct PrPoint {
    iou: f64,
    precision: Option<f64>,
    recall: Option<f64>,
    f1: Option<f64>,
    tp: u64,
    fp: u64,
    #[serde(rename = "fn")]
    fn_: u64,
}

impl From<&ObjectCounts> for PrPoint {
    fn from(c: &ObjectCounts) -> PrPoint {
        PrPoint { iou: c.iou, precision: c.precision(), recall: c.recall(), f1: c.f1(), tp: c.tp, fp: c.fp, fn_: c.fn_ }
    }
}

impl serde::Serialize for Scores {
    /// Flat JSON: every scalar under its name (null when not computable),
    /// `pr` as a list of {iou, precision, recall, f1, tp, fp, fn}, and
    /// `frames` with the number of frames scored.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (k, v) in self.scalars() {
            m.serialize_entry(&k, &v)?;
        }
        let pr: Vec<PrPoint> = self.pr.iter().map(PrPoint::from).collect();
        m.serialize_entry("pr", &pr)?;
        m.serialize_entry("edge_margin", &self.edge_margin)?;
        let frames = serde_json::json!({"TRA": self.tra_frames, "SEG": self.seg_frames, "objects": self.object_frames});
        m.serialize_entry("frames", &frames)?;
        m.end()
    }
}

/// The table printed by `cellstream evaluate`: one measure per line, "n/a"
/// where not computable, then precision / recall / F1 at the chosen thresholds.
pub fn table(s: &Scores) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "frames scored: {} with tracking truth, {} with segmentation truth, {} for object measures",
        s.tra_frames, s.seg_frames, s.object_frames
    );
    let _ = writeln!(out, "{:<16}{:>12}", "measure", "value");
    for (k, v) in s.scalars() {
        if !shown_in_tables(&k) {
            continue;
        }
        let cell = v.cell(Some(6));
        let _ = writeln!(out, "{:<16}{:>12}", k, if cell.is_empty() { "n/a" } else { &cell });
    }
    if !s.pr.is_empty() {
        if let Some(m) = s.edge_margin {
            let _ = writeln!(out, "\n{} are left out below, in the truth and the result", edge_objects(m));
        }
        let [a, b, c, d, e, f, g] = PR_HEADER;
        let _ = writeln!(out, "\n{a:<8}{b:>11}{c:>11}{d:>11}{e:>9}{f:>9}{g:>9}");
        for counts in &s.pr {
            let [a, b, c, d, e, f, g] = pr_cells(counts);
            let _ = writeln!(out, "{a:<8}{b:>11}{c:>11}{d:>11}{e:>9}{f:>9}{g:>9}");
        }
    }
    out
}

/// Whether the scalar `name` is shown in the terminal's and the report's
/// tables: not the counts behind a measure (tp_div(i), MOTA_TP, IDTP, …),
/// which the JSON and CSV hold.
pub fn shown_in_tables(name: &str) -> bool {
    !(name.contains("_div(") || name.starts_with("MOTA_") || matches!(name, "MULTI-ASSIGNMENTS" | "IDTP" | "IDFP" | "IDFN"))
}

/// Which objects `--edge-margin m` leaves out of the object measures, in words.
pub fn edge_objects(m: usize) -> String {
    if m == 0 {
        "objects cut by the frame's edge".to_string()
    } else {
        format!("objects within {m} px of the frame's edge")
    }
}

/// Column names of the precision–recall table.
pub const PR_HEADER: [&str; 7] = ["IoU >", "precision", "recall", "F1", "TP", "FP", "FN"];

/// One row of the precision–recall table (see [`PR_HEADER`]): ratios to 4
/// decimals, "n/a" where not computable.
pub fn pr_cells(c: &ObjectCounts) -> [String; 7] {
    let f = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format!("{x:.4}"));
    [c.iou.to_string(), f(c.precision()), f(c.recall()), f(c.f1()), c.tp.to_string(), c.fp.to_string(), c.fn_.to_string()]
}

/// Long-format CSV (`measure,iou,value`): every scalar measure with an empty
/// `iou` and the `edge_margin` the object counts kept (empty: none), then
/// precision, recall, f1, tp, fp and fn at each IoU threshold of
/// the curve (0.05 … 0.95) and the chosen ones. Empty value = not computable.
pub fn csv_text(s: &Scores) -> String {
    let mut out = String::from("measure,iou,value\n");
    for (k, v) in s.scalars() {
        let _ = writeln!(out, "{k},,{}", v.cell(None));
    }
    let _ = writeln!(out, "edge_margin,,{}", s.edge_margin.map_or(String::new(), |m| m.to_string()));
    let mut curve: Vec<&ObjectCounts> = s.pr_curve.iter().chain(&s.pr).collect();
    curve.sort_by(|a, b| a.iou.total_cmp(&b.iou));
    curve.dedup_by(|a, b| a.iou == b.iou);
    for c in curve {
        let rows = [
            ("precision", Value::Measure(c.precision())),
            ("recall", Value::Measure(c.recall())),
            ("f1", Value::Measure(c.f1())),
            ("tp", Value::Count(Some(c.tp as i64))),
            ("fp", Value::Count(Some(c.fp as i64))),
            ("fn", Value::Count(Some(c.fn_ as i64))),
        ];
        for (k, v) in rows {
            let _ = writeln!(out, "{k},{},{}", c.iou, v.cell(None));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{DetectionErrors, Foreground};

    fn sample() -> Scores {
        Scores {
            seg: Some(0.75),
            det: Some(0.9),
            detection: Some(DetectionErrors { ns: 1, fn_: 2, fp: 3, truth_vertices: 40 }),
            pr: vec![ObjectCounts { iou: 0.5, tp: 3, fp: 1, fn_: 0 }],
            pr_curve: vec![ObjectCounts { iou: 0.05, tp: 4, fp: 0, fn_: 0 }, ObjectCounts { iou: 0.5, tp: 3, fp: 1, fn_: 0 }],
            foreground: Some(Foreground { truth: 10, result: 10, both: 5 }),
            seg_frames: 2,
            ..Default::default()
        }
    }

    #[test]
    fn json_keys_and_nulls() {
        let v = serde_json::to_value(sample()).unwrap();
        assert_eq!(v["SEG"], 0.75);
        assert_eq!(v["NS"], 1);
        assert!(v["TRA"].is_null() && v["ED"].is_null() && v["BC(0)"].is_null());
        assert_eq!(v["OP_CSB"], 0.825);
        assert_eq!(v["pr"][0]["precision"], 0.75);
        assert_eq!(v["pr"][0]["fn"], 0);
        assert_eq!(v["foreground_iou"], 1.0 / 3.0);
        assert_eq!(v["frames"]["SEG"], 2);
    }

    #[test]
    fn table_says_na() {
        let t = table(&sample());
        assert!(t.lines().any(|l| l.starts_with("TRA") && l.ends_with("n/a")), "{t}");
        assert!(t.lines().any(|l| l.starts_with("SEG") && l.ends_with("0.750000")), "{t}");
        assert!(t.contains("0.7500"), "{t}");
    }

    #[test]
    fn csv_rows() {
        let c = csv_text(&sample());
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(lines[0], "measure,iou,value");
        assert!(lines.contains(&"SEG,,0.75"));
        assert!(lines.contains(&"TRA,,"));
        assert!(lines.contains(&"precision,0.05,1"));
        assert!(lines.contains(&"fp,0.5,1"));
        // 0.5 appears once although it is both on the curve and chosen.
        assert_eq!(lines.iter().filter(|l| l.starts_with("recall,0.5,")).count(), 1);
    }
}
