//! Threads and channels only: reader → segmenter → post-processing pool → (a stage that needs frames in order) → linker → writer.
//!
//! Each stage runs on its own thread (post-processing on a pool of them),
//! joined by bounded crossbeam channels, so a slow stage holds the others back
//! and memory stays bounded whatever the sequence length. The first error in
//! any stage cancels every other stage and is returned; the writer then drops
//! its unfinished result, so nothing half-written is left behind.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use anyhow::{anyhow, Result};
use crossbeam_channel::{bounded, Receiver, Sender};

use crate::ctc::{Mask, TrackRecord};

/// The segmenter: sees frames in time order on one thread, so it may carry
/// state from frame to frame (a recurrent model does).
/// `In` is what the reader yields: a raw [`Frame`](crate::ctc::Frame), or a label mask when
/// linking another tool's segmentation.
pub trait SegmentStage<In, Out>: Send {
    /// Segments frame `t`; called once a frame, for `t` in increasing order.
    fn segment(&mut self, t: usize, input: In) -> Result<Out>;
}

impl<In, Out, F: FnMut(usize, In) -> Result<Out> + Send> SegmentStage<In, Out> for F {
    fn segment(&mut self, t: usize, input: In) -> Result<Out> {
        self(t, input)
    }
}

/// What [`LinkStage::finish`] releases: the masks still held, by frame, and the lineage.
pub type LinkedRest = (Vec<(usize, Mask)>, Vec<TrackRecord>);

/// The linker: receives masks in time order and releases relabelled masks,
/// possibly some frames later; `finish` releases the rest and the lineage.
pub trait LinkStage: Send {
    /// Links frame `t`'s mask (frames come in increasing `t`) and returns
    /// the frames now final, relabelled with their tracks' labels, in time
    /// order; none, or some from earlier frames, where the stage holds them
    /// back.
    fn push(&mut self, t: usize, mask: Mask) -> Result<Vec<(usize, Mask)>>;
    /// Called once, after the last frame: the frames still held and the
    /// finished lineage.
    fn finish(self: Box<Self>) -> Result<LinkedRest>;
}

/// A stage that needs the masks in time order and runs ahead of the linker
/// on a thread of its own, so that its work overlaps the linker's (splitting
/// merged cells by the frame before is one).
pub trait OrderedStage: Send {
    /// Its name in error messages ("splitting merges").
    fn name(&self) -> &'static str;
    /// The stage's work on frame `t`'s mask; called once a frame, in
    /// increasing `t`, before the linker sees it.
    fn apply(&mut self, t: usize, mask: Mask) -> Result<Mask>;
}

/// The writer: receives relabelled masks in time order, then the lineage.
pub trait WriteStage: Send {
    /// Writes frame `t`'s relabelled mask; frames come in increasing `t`.
    fn write(&mut self, t: usize, mask: &Mask) -> Result<()>;
    /// Called once, after the last frame is written, with the lineage: the
    /// result is completed (its track file written) and published.
    fn finish(self: Box<Self>, tracks: &[TrackRecord]) -> Result<()>;
}

/// How the stages are sized.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// Threads in the post-processing pool.
    pub post_threads: usize,
    /// Capacity of each channel between stages (frames in flight per link).
    pub channel_capacity: usize,
    /// Run the post-processing pool only on cores the other stages leave idle
    /// (see [`yield_to_other_threads`]). For a segmenter that keeps every core
    /// busy, as a network on the CPU does.
    pub post_when_idle: bool,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        let cores = thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        PipelineOptions { post_threads: cores.max(1), channel_capacity: 4, post_when_idle: false }
    }
}

/// Lowers the calling thread to the `SCHED_IDLE` policy (Linux; a no-op
/// elsewhere), so that it runs only when no ordinary thread wants its core.
///
/// This is how post-processing hides behind a network on the CPU: libtorch
/// keeps every core busy but not every moment (its threads wait on each other
/// between operations), and a watershed at normal priority would preempt one
/// of its threads and stall the other at the next barrier. Starvation cannot
/// stop the pipeline: when the pool falls behind, the bounded channel blocks
/// the segmenter, its cores fall idle, and the pool runs. Returns whether the
/// policy was set.
pub fn yield_to_other_threads() -> bool {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: plain system call on the calling thread (pid 0) with a valid parameter.
        unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// First error wins; every stage polls `cancelled` between frames.
#[derive(Clone, Default)]
struct Cancel {
    flag: Arc<AtomicBool>,
    error: Arc<Mutex<Option<anyhow::Error>>>,
}

impl Cancel {
    fn fail(&self, e: anyhow::Error) {
        let mut slot = self.error.lock().unwrap();
        if slot.is_none() {
            *slot = Some(e);
        }
        self.flag.store(true, Ordering::SeqCst);
    }
    fn cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
    /// Runs a stage body, turning its error or panic into a cancellation.
    fn guard(&self, name: &str, body: impl FnOnce() -> Result<()>) {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => self.fail(e),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                self.fail(anyhow!("internal error in the {name} stage: {msg}"));
            }
        }
    }
}

/// Sends unless the pipeline was cancelled or the receiver is gone.
fn send<T>(tx: &Sender<T>, v: T, cancel: &Cancel) -> bool {
    let mut v = v;
    loop {
        if cancel.cancelled() {
            return false;
        }
        match tx.send_timeout(v, std::time::Duration::from_millis(50)) {
            Ok(()) => return true,
            Err(crossbeam_channel::SendTimeoutError::Timeout(back)) => v = back,
            Err(crossbeam_channel::SendTimeoutError::Disconnected(_)) => return false,
        }
    }
}

/// Receives until the channel closes or the pipeline is cancelled.
fn recv<T>(rx: &Receiver<T>, cancel: &Cancel) -> Option<T> {
    loop {
        if cancel.cancelled() {
            return None;
        }
        match rx.recv_timeout(std::time::Duration::from_millis(50)) {
            Ok(v) => return Some(v),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => continue,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// Receives `(i, t, mask)` from `rx` in any order of `i` (the position in
/// the stream) and calls `f` on each in order of `i`, until the channel is
/// done or `f` returns false (then returns false).
fn in_order(rx: &Receiver<(usize, usize, Mask)>, c: &Cancel, mut f: impl FnMut(usize, usize, Mask) -> Result<bool>) -> Result<bool> {
    let mut pending: BTreeMap<usize, (usize, Mask)> = BTreeMap::new();
    let mut next = 0usize;
    while let Some((i, t, m)) = recv(rx, c) {
        pending.insert(i, (t, m));
        while let Some((t, m)) = pending.remove(&next) {
            if !f(next, t, m)? {
                return Ok(false);
            }
            next += 1;
        }
    }
    Ok(true)
}

/// Starts a stage's thread under `name` (at most 15 bytes are kept: what
/// `top -H`, `ps -L` and profilers show for it).
fn spawn<'scope, 'env>(s: &'scope thread::Scope<'scope, 'env>, name: String, f: impl FnOnce() + Send + 'scope) {
    thread::Builder::new().name(name).spawn_scoped(s, f).expect("the system refused a pipeline thread");
}

/// Runs the whole pipeline to completion and returns the number of frames
/// written, or the first error any stage met.
///
/// `frames` yields `(t, frame)` in time order; `post` turns a segmenter's
/// output into an instance mask and may run on several frames at once;
/// `before_link`, if any, sees the masks in time order between the pool and
/// the linker; `on_frame(t)` is called by the writer after each frame is
/// written.
#[allow(clippy::too_many_arguments)]
pub fn run<In, S, I>(
    frames: I,
    mut segmenter: Box<dyn SegmentStage<In, S>>,
    post: Arc<dyn Fn(usize, S) -> Result<Mask> + Send + Sync>,
    before_link: Option<Box<dyn OrderedStage>>,
    linker: Box<dyn LinkStage>,
    writer: Box<dyn WriteStage>,
    opts: &PipelineOptions,
    mut on_frame: impl FnMut(usize) + Send,
) -> Result<usize>
where
    In: Send,
    S: Send,
    I: Iterator<Item = Result<(usize, In)>> + Send,
{
    let cap = opts.channel_capacity.max(1);
    let threads = opts.post_threads.max(1);
    let cancel = Cancel::default();
    // Items carry their position in the stream (`i`) besides their time `t`,
    // so the linker can restore the order the post-processing pool loses.
    let (frame_tx, frame_rx) = bounded::<(usize, In)>(cap);
    let (seg_tx, seg_rx) = bounded::<(usize, usize, S)>(cap);
    let (mask_tx, mask_rx) = bounded::<(usize, usize, Mask)>(cap);
    let (out_tx, out_rx) = bounded::<(usize, Mask)>(cap);
    let (lineage_tx, lineage_rx) = bounded::<Vec<TrackRecord>>(1);
    let written = Arc::new(std::sync::atomic::AtomicUsize::new(0));

    thread::scope(|s| {
        let c = cancel.clone();
        spawn(s, "cs-reader".into(), move || {
            c.guard("reader", || {
                for item in frames {
                    if !send(&frame_tx, item?, &c) {
                        break;
                    }
                }
                Ok(())
            })
        });

        for k in 0..threads {
            let (c, rx, tx, post) = (cancel.clone(), seg_rx.clone(), mask_tx.clone(), post.clone());
            let when_idle = opts.post_when_idle;
            spawn(s, format!("cs-post-{k}"), move || {
                if when_idle {
                    yield_to_other_threads();
                }
                c.guard("post-processing", || {
                    while let Some((i, t, out)) = recv(&rx, &c) {
                        let m = post(t, out)?;
                        if !send(&tx, (i, t, m), &c) {
                            break;
                        }
                    }
                    Ok(())
                })
            });
        }
        drop(seg_rx);
        drop(mask_tx);

        let link_rx = match before_link {
            None => mask_rx,
            Some(mut stage) => {
                let (tx, rx) = bounded::<(usize, usize, Mask)>(cap);
                let c = cancel.clone();
                spawn(s, format!("cs-{}", stage.name().replace(' ', "-")), move || {
                    c.guard(stage.name(), || {
                        in_order(&mask_rx, &c, |i, t, m| {
                            let m = stage.apply(t, m)?;
                            Ok(send(&tx, (i, t, m), &c))
                        })?;
                        Ok(())
                    })
                });
                rx
            }
        };

        let c = cancel.clone();
        spawn(s, "cs-linker".into(), move || {
            c.guard("linking", || {
                let mut linker = linker;
                let ran_out = in_order(&link_rx, &c, |_, t, m| {
                    for out in linker.push(t, m)? {
                        if !send(&out_tx, out, &c) {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                })?;
                if !ran_out || c.cancelled() {
                    return Ok(());
                }
                let (rest, tracks) = linker.finish()?;
                for out in rest {
                    if !send(&out_tx, out, &c) {
                        return Ok(());
                    }
                }
                drop(out_tx);
                send(&lineage_tx, tracks, &c);
                Ok(())
            })
        });

        let c = cancel.clone();
        let w = written.clone();
        spawn(s, "cs-writer".into(), move || {
            c.guard("writer", || {
                let mut writer = writer;
                while let Some((t, m)) = recv(&out_rx, &c) {
                    writer.write(t, &m)?;
                    w.fetch_add(1, Ordering::SeqCst);
                    on_frame(t);
                }
                if c.cancelled() {
                    return Ok(()); // dropping the writer discards the partial result
                }
                let Some(tracks) = recv(&lineage_rx, &c) else { return Ok(()) };
                writer.finish(&tracks)
            })
        });

        // The segmenter runs on the calling thread: with glibc it allocates
        // from the main arena, which `reuse_freed_memory` keeps from giving
        // large blocks back, where a thread arena maps blocks over 64 MB
        // (a network's activations) afresh every frame.
        let c = cancel.clone();
        c.guard("segmentation", || {
            let mut i = 0;
            while let Some((t, f)) = recv(&frame_rx, &c) {
                let out = segmenter.segment(t, f)?;
                if !send(&seg_tx, (i, t, out), &c) {
                    break;
                }
                i += 1;
            }
            Ok(())
        });
        drop(seg_tx);
        drop(frame_rx);
    });

    if let Some(e) = cancel.error.lock().unwrap().take() {
        return Err(e);
    }
    Ok(written.load(Ordering::SeqCst))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctc::Frame;
    use ndarray::Array2;
    use std::time::{Duration, Instant};

    /// Links nothing: label = time + 1, one track per frame.
    struct Identity(Vec<TrackRecord>);
    impl LinkStage for Identity {
        fn push(&mut self, t: usize, m: Mask) -> Result<Vec<(usize, Mask)>> {
            self.0.push(TrackRecord::new(t as u32 + 1, t, t, 0));
            Ok(vec![(t, m.mapv(|v| if v > 0 { t as u32 + 1 } else { 0 }))])
        }
        fn finish(self: Box<Self>) -> Result<LinkedRest> {
            Ok((vec![], self.0))
        }
    }

    #[derive(Clone, Default)]
    struct Collect(Arc<Mutex<(Vec<usize>, Option<usize>)>>);
    impl WriteStage for Collect {
        fn write(&mut self, t: usize, _m: &Mask) -> Result<()> {
            self.0.lock().unwrap().0.push(t);
            Ok(())
        }
        fn finish(self: Box<Self>, tracks: &[TrackRecord]) -> Result<()> {
            self.0.lock().unwrap().1 = Some(tracks.len());
            Ok(())
        }
    }

    fn frames(n: usize, bad_at: Option<usize>) -> impl Iterator<Item = Result<(usize, Frame)>> + Send {
        (0..n).map(move |t| {
            if Some(t) == bad_at {
                Err(anyhow!("t{t:03}.tif: corrupt TIFF"))
            } else {
                Ok((t, Frame::U8(Array2::from_elem((4, 4), t as u8))))
            }
        })
    }

    fn threshold_post() -> Arc<dyn Fn(usize, Frame) -> Result<Mask> + Send + Sync> {
        Arc::new(|t, f: Frame| {
            // Uneven work so the pool finishes frames out of order.
            std::thread::sleep(Duration::from_millis(((t * 7) % 5) as u64));
            Ok(f.to_f32().mapv(|v| (v >= 0.0) as u32))
        })
    }

    #[test]
    fn frames_reach_the_writer_in_order_with_the_lineage() {
        let out = Collect::default();
        let opts = PipelineOptions { post_threads: 4, channel_capacity: 2, post_when_idle: false };
        let n = run(
            frames(40, None),
            Box::new(|_t, f: Frame| Ok(f)),
            threshold_post(),
            None,
            Box::new(Identity(vec![])),
            Box::new(out.clone()),
            &opts,
            |_| {},
        )
        .unwrap();
        assert_eq!(n, 40);
        let got = out.0.lock().unwrap();
        assert_eq!(got.0, (0..40).collect::<Vec<_>>());
        assert_eq!(got.1, Some(40));
    }

    #[test]
    fn each_stage_runs_on_a_thread_named_for_it() {
        type Names = Arc<Mutex<BTreeMap<&'static str, std::collections::BTreeSet<String>>>>;
        fn note(names: &Names, stage: &'static str) {
            let name = thread::current().name().unwrap_or("(unnamed)").to_string();
            names.lock().unwrap().entry(stage).or_default().insert(name);
        }
        struct Named(Names);
        impl OrderedStage for Named {
            fn name(&self) -> &'static str {
                "splitting merges"
            }
            fn apply(&mut self, _t: usize, m: Mask) -> Result<Mask> {
                note(&self.0, "ordered");
                Ok(m)
            }
        }
        let names = Names::default();
        let (rd, pp, wr) = (names.clone(), names.clone(), names.clone());
        let opts = PipelineOptions { post_threads: 2, channel_capacity: 1, post_when_idle: false };
        run(
            frames(12, None).inspect(move |_| note(&rd, "reading")),
            Box::new(|_t, f: Frame| Ok(f)),
            Arc::new(move |_t, f: Frame| {
                note(&pp, "post-processing");
                std::thread::sleep(Duration::from_millis(2));
                Ok(f.to_f32().mapv(|v| (v >= 0.0) as u32))
            }),
            Some(Box::new(Named(names.clone()))),
            Box::new(Identity(vec![])),
            Box::new(Collect::default()),
            &opts,
            move |_| note(&wr, "writing"),
        )
        .unwrap();
        let names = names.lock().unwrap();
        let one = |stage: &str| names[stage].iter().cloned().collect::<Vec<_>>();
        assert_eq!(one("reading"), ["cs-reader"]);
        assert_eq!(one("writing"), ["cs-writer"]);
        // Linux keeps 15 bytes of a thread's name; Rust keeps them all.
        assert_eq!(one("ordered"), ["cs-splitting-merges"]);
        assert!(names["post-processing"].iter().all(|n| n == "cs-post-0" || n == "cs-post-1"), "{names:?}");
    }

    /// Records the scheduling policy of the thread it is called on, per stage.
    #[cfg(target_os = "linux")]
    #[derive(Clone, Default)]
    struct Policies(Arc<Mutex<BTreeMap<&'static str, Vec<i32>>>>);
    #[cfg(target_os = "linux")]
    impl Policies {
        fn note(&self, stage: &'static str) {
            // SAFETY: plain system call about the calling thread.
            let p = unsafe { libc::sched_getscheduler(0) };
            self.0.lock().unwrap().entry(stage).or_default().push(p);
        }
    }
    #[cfg(target_os = "linux")]
    struct NotedLinker(Identity, Policies);
    #[cfg(target_os = "linux")]
    impl LinkStage for NotedLinker {
        fn push(&mut self, t: usize, m: Mask) -> Result<Vec<(usize, Mask)>> {
            self.1.note("linking");
            self.0.push(t, m)
        }
        fn finish(self: Box<Self>) -> Result<LinkedRest> {
            Box::new(self.0).finish()
        }
    }

    #[cfg(target_os = "linux")]
    struct NotedOrdered(Policies);
    #[cfg(target_os = "linux")]
    impl OrderedStage for NotedOrdered {
        fn name(&self) -> &'static str {
            "ordered"
        }
        fn apply(&mut self, _t: usize, m: Mask) -> Result<Mask> {
            self.0.note("ordered");
            Ok(m)
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_pool_that_yields_runs_at_idle_priority_and_still_finishes_behind_a_busy_segmenter() {
        let out = Collect::default();
        let opts = PipelineOptions { post_threads: 2, channel_capacity: 2, post_when_idle: true };
        let seen = Policies::default();
        let (rd, sg, pp, wr) = (seen.clone(), seen.clone(), seen.clone(), seen.clone());
        let n = run(
            frames(60, None).inspect(move |_| rd.note("reading")),
            // A segmenter that keeps its core busy, as a network does.
            Box::new(move |_t, f: Frame| {
                sg.note("segmentation");
                let until = Instant::now() + Duration::from_millis(2);
                while Instant::now() < until {
                    std::hint::spin_loop();
                }
                Ok(f)
            }),
            Arc::new(move |_t, f: Frame| {
                pp.note("post-processing");
                Ok(f.to_f32().mapv(|v| (v >= 0.0) as u32))
            }),
            Some(Box::new(NotedOrdered(seen.clone()))),
            Box::new(NotedLinker(Identity(vec![]), seen.clone())),
            Box::new(out.clone()),
            &opts,
            move |_| wr.note("writing"),
        )
        .unwrap();
        assert_eq!(n, 60);
        assert_eq!(out.0.lock().unwrap().0, (0..60).collect::<Vec<_>>());
        let seen = seen.0.lock().unwrap();
        let pool = &seen["post-processing"];
        assert_eq!(pool.len(), 60);
        assert!(pool.iter().all(|&p| p == libc::SCHED_IDLE), "{pool:?}");
        // Only the pool yields: a reader at idle priority left the network
        // waiting for frames (docs/notebook.md, Speed, session by session).
        for stage in ["reading", "segmentation", "ordered", "linking", "writing"] {
            assert_eq!(seen[stage].len(), 60, "{stage}");
            assert!(seen[stage].iter().all(|&p| p == libc::SCHED_OTHER), "{stage}: {:?}", seen[stage]);
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn without_a_yielding_pool_every_stage_keeps_normal_priority() {
        let opts = PipelineOptions { post_threads: 2, channel_capacity: 2, post_when_idle: false };
        let seen = Policies::default();
        let (rd, pp, wr) = (seen.clone(), seen.clone(), seen.clone());
        run(
            frames(10, None).inspect(move |_| rd.note("reading")),
            Box::new(|_t, f: Frame| Ok(f)),
            Arc::new(move |_t, f: Frame| {
                pp.note("post-processing");
                Ok(f.to_f32().mapv(|v| (v >= 0.0) as u32))
            }),
            None,
            Box::new(NotedLinker(Identity(vec![]), seen.clone())),
            Box::new(Collect::default()),
            &opts,
            move |_| wr.note("writing"),
        )
        .unwrap();
        let seen = seen.0.lock().unwrap();
        for stage in ["reading", "post-processing", "linking", "writing"] {
            assert!(seen[stage].iter().all(|&p| p == libc::SCHED_OTHER), "{stage}: {:?}", seen[stage]);
        }
    }

    #[test]
    fn an_error_mid_run_stops_everything_quickly_and_nothing_is_finished() {
        let out = Collect::default();
        let opts = PipelineOptions { post_threads: 2, channel_capacity: 2, post_when_idle: false };
        let start = Instant::now();
        let err = run(
            frames(10_000, Some(25)),
            Box::new(|_t, f: Frame| Ok(f)),
            threshold_post(),
            None,
            Box::new(Identity(vec![])),
            Box::new(out.clone()),
            &opts,
            |_| {},
        )
        .unwrap_err();
        assert!(err.to_string().contains("t025.tif: corrupt TIFF"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());
        let got = out.0.lock().unwrap();
        assert!(got.0.len() <= 25);
        assert_eq!(got.1, None, "the writer must not finish a failed run");
    }

    #[test]
    fn errors_and_panics_in_later_stages_stop_the_run() {
        let opts = PipelineOptions { post_threads: 3, channel_capacity: 2, post_when_idle: false };
        let err = run(
            frames(1000, None),
            Box::new(|_t, f: Frame| Ok(f)),
            Arc::new(|t, _f: Frame| if t == 17 { panic!("boom at {t}") } else { Ok(Mask::zeros((4, 4))) }),
            None,
            Box::new(Identity(vec![])),
            Box::new(Collect::default()),
            &opts,
            |_| {},
        )
        .unwrap_err();
        assert!(err.to_string().contains("post-processing stage: boom at 17"), "{err}");
        let err = run(
            frames(1000, None),
            Box::new(|t, f: Frame| if t == 3 { Err(anyhow!("model failed")) } else { Ok(f) }),
            threshold_post(),
            None,
            Box::new(Identity(vec![])),
            Box::new(Collect::default()),
            &opts,
            |_| {},
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "model failed");
    }

    /// Records the times it sees and adds `t` to every pixel's label.
    struct Stamp(Arc<Mutex<Vec<usize>>>, Option<usize>);
    impl OrderedStage for Stamp {
        fn name(&self) -> &'static str {
            "stamping"
        }
        fn apply(&mut self, t: usize, m: Mask) -> Result<Mask> {
            if Some(t) == self.1 {
                return Err(anyhow!("cannot stamp frame {t}"));
            }
            self.0.lock().unwrap().push(t);
            Ok(m.mapv(|v| v + t as u32))
        }
    }

    /// Passes the masks on to the writer as they come, unrelabelled.
    struct Pass(Vec<TrackRecord>);
    impl LinkStage for Pass {
        fn push(&mut self, t: usize, m: Mask) -> Result<Vec<(usize, Mask)>> {
            Ok(vec![(t, m)])
        }
        fn finish(self: Box<Self>) -> Result<LinkedRest> {
            Ok((vec![], self.0))
        }
    }

    #[derive(Clone, Default)]
    struct Labels(Arc<Mutex<Vec<(usize, u32)>>>);
    impl WriteStage for Labels {
        fn write(&mut self, t: usize, m: &Mask) -> Result<()> {
            self.0.lock().unwrap().push((t, m[[0, 0]]));
            Ok(())
        }
        fn finish(self: Box<Self>, _tracks: &[TrackRecord]) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_stage_before_the_linker_sees_the_masks_in_order_and_its_output_is_linked() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let out = Labels::default();
        let opts = PipelineOptions { post_threads: 4, channel_capacity: 2, post_when_idle: false };
        let n = run(
            frames(40, None),
            Box::new(|_t, f: Frame| Ok(f)),
            threshold_post(),
            Some(Box::new(Stamp(seen.clone(), None))),
            Box::new(Pass(vec![])),
            Box::new(out.clone()),
            &opts,
            |_| {},
        )
        .unwrap();
        assert_eq!(n, 40);
        assert_eq!(*seen.lock().unwrap(), (0..40).collect::<Vec<_>>(), "the pool finishes out of order; the stage must not see that");
        let got = out.0.lock().unwrap();
        assert_eq!(*got, (0..40).map(|t| (t, 1 + t as u32)).collect::<Vec<_>>());
    }

    #[test]
    fn an_error_in_the_stage_before_the_linker_stops_the_run_and_nothing_is_finished() {
        let out = Collect::default();
        let opts = PipelineOptions { post_threads: 2, channel_capacity: 2, post_when_idle: false };
        let err = run(
            frames(1000, None),
            Box::new(|_t, f: Frame| Ok(f)),
            threshold_post(),
            Some(Box::new(Stamp(Arc::default(), Some(9)))),
            Box::new(Identity(vec![])),
            Box::new(out.clone()),
            &opts,
            |_| {},
        )
        .unwrap_err();
        assert!(err.to_string().contains("cannot stamp frame 9"), "{err}");
        let got = out.0.lock().unwrap();
        assert!(got.0.len() <= 9, "{:?}", got.0);
        assert_eq!(got.1, None, "the writer must not finish a failed run");
    }
}
