//! The stages `track` hands the pipeline beyond reading and segmenting: merge splitting, the linker and the result writer.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};

use crate::ctc::{self, Mask, TrackRecord};
use crate::link::backdate::Move;
use crate::link::{pruned_labels_by_frame, StreamLinker};
use crate::measure::StatsWriter;
use crate::pipeline::{LinkStage, OrderedStage, WriteStage};
use crate::post::MergeSplitter;
use crate::run_record::RunRecord;

/// What a run of `track` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackSummary {
    pub frames: usize,
    pub tracks: usize,
    pub divisions: usize,
    pub resumed: usize,
    /// Objects split by the frame before (`--split-merges`).
    pub merges_split: usize,
    /// Tracks pruned as brief branches (`--prune-branches`), whose pixels
    /// the writer removes from the masks it has written.
    pub pruned: Vec<TrackRecord>,
    /// Divisions moved a frame back (`--backdate-divisions`).
    pub backdated: usize,
    /// Divisions moved a frame back as the frames streamed past, then
    /// undone because pruning took a daughter: the writer gives each mother
    /// her object back in the frame it was split in.
    pub restored: Vec<Move>,
}

/// Splitting merged cells by the mask before ([`crate::post::split_merges`])
/// as a pipeline stage: it needs the frames in order, as the linker does, and
/// runs just ahead of it on a thread of its own.
pub(super) struct MergeStage {
    pub(super) splitter: MergeSplitter,
    /// Objects split so far, for the linker's summary.
    pub(super) split: Arc<AtomicUsize>,
}

impl OrderedStage for MergeStage {
    fn name(&self) -> &'static str {
        "splitting merges"
    }
    fn apply(&mut self, _t: usize, mut mask: Mask) -> Result<Mask> {
        self.splitter.split(&mut mask);
        self.splitter.keep(mask.clone());
        self.split.store(self.splitter.objects_split(), Ordering::SeqCst);
        Ok(mask)
    }
}

/// The linker as a pipeline stage ([`StreamLinker`]: divisions backdated as
/// the frames leave it, brief branches pruned at the end).
pub(super) struct LinkerStage {
    pub(super) linker: StreamLinker,
    /// Objects the merge stage split, if it runs (it ends before the linker).
    pub(super) merges_split: Option<Arc<AtomicUsize>>,
    pub(super) summary: Arc<Mutex<Option<TrackSummary>>>,
}

impl LinkStage for LinkerStage {
    fn push(&mut self, t: usize, mask: Mask) -> Result<Vec<(usize, Mask)>> {
        Ok(self.linker.push(t, &mask)?)
    }
    fn finish(self: Box<Self>) -> Result<crate::pipeline::LinkedRest> {
        let LinkerStage { linker, merges_split, summary } = *self;
        let (rest, lineage) = linker.finish();
        let merges_split = merges_split.map_or(0, |n| n.load(Ordering::SeqCst));
        let crate::link::LinkedLineage { tracks, divisions, resumed, pruned, backdated, restored } = lineage;
        *summary.lock().unwrap() = Some(TrackSummary { frames: 0, tracks: tracks.len(), divisions, resumed, merges_split, pruned, backdated, restored });
        Ok((rest, tracks))
    }
}

/// The CTC writer (and the `--stats` CSVs) as a pipeline stage.
pub(super) struct ResultStage {
    pub(super) writer: ctc::ResultWriter,
    pub(super) stats: Option<StatsWriter>,
    /// With pruning, the frames written, measured for the stats only once
    /// the pruned branches are erased.
    pub(super) deferred: Option<Vec<usize>>,
    /// The run's settings, completed with what came out and written as
    /// [`ctc::RUN_RECORD`] in the result.
    pub(super) record: Option<RunRecord>,
    pub(super) frames: usize,
    /// What the linker found; set by [`LinkerStage::finish`], which runs first.
    pub(super) summary: Arc<Mutex<Option<TrackSummary>>>,
}

impl WriteStage for ResultStage {
    fn write(&mut self, t: usize, mask: &Mask) -> Result<()> {
        self.writer.write_mask(t, mask)?;
        self.frames += 1;
        match (&mut self.stats, &mut self.deferred) {
            (Some(_), Some(later)) => later.push(t),
            (Some(s), None) => {
                s.add(t, mask)?;
            }
            (None, _) => {}
        }
        Ok(())
    }
    fn finish(self: Box<Self>, tracks: &[TrackRecord]) -> Result<()> {
        let ResultStage { writer, stats, deferred, record, frames, summary } = *self;
        // A result of no frame is no CTC result: nothing is published.
        anyhow::ensure!(frames > 0, "no frame was read, so no result is written");
        let linked = summary.lock().unwrap().clone().context("the linker did not finish")?;
        // Only with --prune-branches, whose stats are measured below.
        for m in &linked.restored {
            writer.relabel_written(m.frame, &[(m.daughters[0], m.mother), (m.daughters[1], m.mother)])?;
        }
        for (t, labels) in pruned_labels_by_frame(&linked.pruned) {
            writer.erase_labels(t, &labels)?;
        }
        // Stats before the result: if they fail, it is not published either.
        if let Some(mut s) = stats {
            for t in deferred.unwrap_or_default() {
                s.add(t, &writer.read_written(t)?)?;
            }
            s.finish()?;
        }
        if let Some(mut record) = record {
            record
                .section("result")
                .set("frames", frames)
                .set("tracks", linked.tracks)
                .set("divisions", linked.divisions)
                .set("resumed", linked.resumed)
                .set("merges_split", linked.merges_split)
                .set("branches_pruned", linked.pruned.len())
                .set("divisions_backdated", linked.backdated);
            writer.write_run_record(&record.finish())?;
        }
        writer.finish(tracks)?;
        Ok(())
    }
}

