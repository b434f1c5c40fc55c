//! No allocation per call: a counting global allocator watches the call paths that a
//! busy breaker takes — a success and a failure while closed (count and time windows,
//! with slow-call detection), a rejection while open, and a probe.
//!
//! One test in this binary, so that no other test allocates while it counts.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use breaker_fsm::breaker::StateId;
use breaker_fsm::config::Config;
use common::{Rig, ms, secs};

/// The system allocator, counting allocations.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees hold; the counter is a side effect only.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as received.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many allocations `f` made.
fn allocations(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    f();
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

fn exercise(rig: &Rig) {
    // Warm up: the thread's stripe index and any lazily made state.
    let _ = rig.ok();
    let closed = allocations(|| {
        for call in 0..10_000 {
            let _ = if call % 10 == 0 { rig.fail() } else { rig.ok() };
            if call % 100 == 0 {
                rig.advance(ms(7));
            }
        }
    });
    assert_eq!(rig.breaker.state(), StateId::Closed);
    assert_eq!(closed, 0, "closed calls allocated");

    // Past a time window's length, so that only failures are left in either window.
    rig.advance(secs(11));
    let trip = allocations(|| {
        for _ in 0..100 {
            let _ = rig.fail();
        }
    });
    assert_eq!(rig.breaker.state(), StateId::Open);
    assert_eq!(trip, 0, "failures and the trip allocated");
    let open = allocations(|| {
        for _ in 0..1000 {
            assert!(rig.ok().is_err());
        }
    });
    assert_eq!(open, 0, "rejections allocated");

    rig.advance(secs(60));
    let probes = allocations(|| {
        for _ in 0..5 {
            rig.ok().unwrap();
        }
    });
    assert_eq!(rig.breaker.state(), StateId::Closed);
    assert_eq!(probes, 0, "probes allocated");
}

#[test]
fn calls_trips_rejections_and_probes_do_not_allocate() {
    // The counter sees allocations at all (or every check below would pass vacuously).
    assert!(allocations(|| drop(std::hint::black_box(vec![1_u8; 16]))) >= 1);
    let base = || {
        Config::builder()
            .failure_rate_threshold(50.0)
            .minimum_calls(20)
            .fixed_wait(secs(30))
            .half_open_permits(5)
            .slow_calls(Duration::from_secs(1), 90.0)
    };
    exercise(&Rig::new(base().count_window(100, 10)));
    exercise(&Rig::new(base().time_window(secs(10), 10)));
}
