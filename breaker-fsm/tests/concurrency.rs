//! Many threads on one breaker: HalfOpen admits exactly its permits, and no outcome is
//! ever lost, however the threads interleave with each other and with state changes.
//!
//! Each test runs for 2 to 8 threads; a manual clock keeps the policy deterministic, so
//! only the interleaving varies between runs.

mod common;

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use breaker_fsm::breaker::StateId;
use breaker_fsm::config::Config;
use breaker_fsm::machine::CallKind;
use breaker_fsm::window::Counts;
use breaker_fsm::{CallPermit, Outcome, Rejection};
use common::{Rig, exact, ms, secs};

const THREADS: std::ops::RangeInclusive<usize> = 2..=8;

#[test]
fn half_open_admits_exactly_n_probes_however_many_threads_race_for_them() {
    for threads in THREADS {
        for permits in 1..=4_u32 {
            for _round in 0..20 {
                let rig = Rig::new(exact(4, 2, permits));
                let _ = rig.fail();
                let _ = rig.fail();
                // The wait is over but nothing has looked yet: the threads also race for
                // the Open -> HalfOpen move.
                rig.advance(secs(10));
                let admitted = AtomicU64::new(0);
                let busy = AtomicU64::new(0);
                let everyone_tried = Barrier::new(threads);
                thread::scope(|scope| {
                    for _ in 0..threads {
                        scope.spawn(|| {
                            let mut held: Vec<CallPermit<'_, _>> = Vec::new();
                            for _ in 0..5 {
                                match rig.breaker.acquire() {
                                    Ok(permit) => {
                                        assert_eq!(permit.kind(), CallKind::Probe);
                                        held.push(permit);
                                    }
                                    Err(Rejection::ProbesBusy { permits: p }) => {
                                        assert_eq!(p, permits);
                                        busy.fetch_add(1, Ordering::Relaxed);
                                    }
                                    Err(other) => panic!("unexpected rejection {other:?}"),
                                }
                            }
                            admitted.fetch_add(held.len() as u64, Ordering::Relaxed);
                            // Hold every permit until all threads have tried.
                            everyone_tried.wait();
                            for permit in held {
                                permit.success();
                            }
                        });
                    }
                });
                let admitted = admitted.into_inner();
                assert_eq!(
                    admitted,
                    u64::from(permits),
                    "{threads} threads, {permits} permits"
                );
                assert_eq!(busy.into_inner(), threads as u64 * 5 - admitted);
                assert_eq!(rig.breaker.state(), StateId::Closed);
            }
        }
    }
}

#[test]
fn a_probe_abandoned_on_another_thread_frees_its_permit_for_exactly_one_caller() {
    for threads in THREADS {
        let rig = Rig::new(exact(4, 2, 1));
        let _ = rig.fail();
        let _ = rig.fail();
        rig.advance(secs(10));
        let probe = rig.breaker.acquire().unwrap();
        let admitted = AtomicU64::new(0);
        let released = AtomicBool::new(false);
        let start = Barrier::new(threads + 1);
        let try_once = || {
            if let Ok(permit) = rig.breaker.acquire() {
                admitted.fetch_add(1, Ordering::Relaxed);
                // Never reported: the permit stays taken.
                std::mem::forget(permit);
            }
        };
        thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    start.wait();
                    while !released.load(Ordering::Acquire) {
                        try_once();
                    }
                    // The permit is free now; every thread keeps asking for a while.
                    for _ in 0..1_000 {
                        try_once();
                    }
                });
            }
            start.wait();
            drop(probe);
            released.store(true, Ordering::Release);
        });
        assert_eq!(admitted.into_inner(), 1, "{threads} threads");
        assert_eq!(rig.breaker.state(), StateId::HalfOpen);
    }
}

/// Closed only: the window is large enough for every call and the threshold cannot be
/// reached, so every outcome must show up in the window and the lifetime totals.
#[test]
fn closed_counts_are_never_lost() {
    const CALLS: u64 = 20_000;
    for threads in THREADS {
        let rig = Rig::new(
            Config::builder()
                .count_window(1_000_000, 1000)
                .minimum_calls(10)
                .failure_rate_threshold(100.0),
        );
        thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    for call in 0..CALLS {
                        let _ = rig
                            .breaker
                            .call(|| if call % 7 == 3 { Err(()) } else { Ok(()) });
                    }
                });
            }
        });
        let calls = CALLS * threads as u64;
        let failures = (CALLS + 3) / 7 * threads as u64;
        let metrics = rig.breaker.metrics();
        assert_eq!(metrics.state, StateId::Closed);
        assert_eq!(
            metrics.window,
            Counts {
                calls,
                failures,
                slow: 0
            },
            "{threads} threads"
        );
        assert_eq!(metrics.lifetime.calls, calls);
        assert_eq!(metrics.lifetime.failures, failures);
    }
}

/// A time window while another thread moves the clock: buckets end under the callers'
/// feet, and still every call is counted once.
#[test]
fn time_window_counts_are_never_lost_while_buckets_end() {
    const CALLS: u64 = 10_000;
    for threads in THREADS {
        let rig = Rig::new(
            Config::builder()
                .time_window(secs(1), 10)
                .minimum_calls(1000)
                .failure_rate_threshold(100.0),
        );
        let done = AtomicBool::new(false);
        thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        for call in 0..CALLS {
                            let _ = rig
                                .breaker
                                .call(|| if call % 5 == 0 { Err(()) } else { Ok(()) });
                        }
                    })
                })
                .collect();
            scope.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    rig.advance(ms(7));
                    thread::yield_now();
                }
            });
            for worker in workers {
                worker.join().unwrap();
            }
            done.store(true, Ordering::Relaxed);
        });
        let metrics = rig.breaker.metrics();
        assert_eq!(metrics.state, StateId::Closed);
        assert_eq!(
            metrics.lifetime.calls,
            CALLS * threads as u64,
            "{threads} threads"
        );
        assert_eq!(
            metrics.lifetime.failures,
            CALLS.div_ceil(5) * threads as u64
        );
        assert!(metrics.window.calls <= metrics.lifetime.calls);
    }
}

/// Every kind of state change while calls are in flight: each attempt must end up in
/// exactly one of the lifetime counters (recorded, stale, ignored, rejected, abandoned)
/// or, when the breaker was disabled, in none.
#[test]
fn every_attempt_is_accounted_for_across_state_changes() {
    const ATTEMPTS: u64 = 5_000;
    const CHANGES: u64 = 600;
    for threads in THREADS {
        let rig = Rig::new(
            exact(8, 4, 2)
                .failure_rate_threshold(30.0)
                .fixed_wait(ms(1))
                .max_half_open_wait(Some(ms(2))),
        );
        let unrecorded = AtomicU64::new(0);
        let changes = AtomicU64::new(0);
        let attempts: u64 = thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|worker| {
                    let (rig, unrecorded, changes) = (&rig, &unrecorded, &changes);
                    scope.spawn(move || {
                        let mut attempt = 0_u64;
                        // Keep calling until the controller has made all its changes too.
                        while attempt < ATTEMPTS || changes.load(Ordering::Relaxed) < CHANGES {
                            if attempt >= ATTEMPTS {
                                // Done with the quota: leave the cores to the controller.
                                thread::yield_now();
                            }
                            attempt += 1;
                            let Ok(permit) = rig.breaker.acquire() else {
                                // Let the controller run: it ends the forced-open spells.
                                thread::yield_now();
                                continue;
                            };
                            if permit.kind() == CallKind::Unrecorded {
                                unrecorded.fetch_add(1, Ordering::Relaxed);
                            }
                            match (attempt + worker as u64) % 11 {
                                0..=2 => permit.failure(),
                                3 => permit.ignore(),
                                4 => drop(permit),
                                _ => permit.record(Outcome::Success),
                            }
                        }
                        attempt
                    })
                })
                .collect();
            scope.spawn(|| {
                for step in 0..CHANGES {
                    match step % 8 {
                        0 => rig.breaker.force_open(),
                        1 => rig.breaker.reset(),
                        2 => rig.breaker.metrics_only(),
                        3 => rig.breaker.disable(),
                        4 => rig.breaker.reset(),
                        _ => rig.advance(ms(1)),
                    }
                    changes.fetch_add(1, Ordering::Relaxed);
                    thread::yield_now();
                }
            });
            workers
                .into_iter()
                .map(|worker| worker.join().unwrap())
                .sum()
        });
        let metrics = rig.breaker.metrics();
        let life = metrics.lifetime;
        let accounted = life.calls + life.stale + life.ignored + life.rejected + life.abandoned;
        assert_eq!(
            accounted + unrecorded.into_inner(),
            attempts,
            "{threads} threads: {life:?}"
        );
        // The run must have mixed calls with many state changes, or it proves little.
        assert!(
            metrics.generation >= CHANGES / 2,
            "{threads} threads: {metrics:?}"
        );
        assert!(
            life.calls > 0 && life.rejected > 0,
            "{threads} threads: {life:?}"
        );
    }
}
