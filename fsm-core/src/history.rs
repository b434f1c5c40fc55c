//! State history: breadcrumbs of the moves a machine made, kept without allocation.
//!
//! Every generated machine carries a recorder type `H`. The default, [`NoHistory`], is
//! zero-sized and its `record` is empty, so a machine that keeps no history pays nothing
//! in size or time. [`History`] keeps the last `N` moves in a fixed array and works in
//! `no_std`; with the `alloc` feature a `Vec` keeps every move.

use core::fmt;

use crate::machine::Machine;

/// Something that is told of every move a machine makes.
pub trait Recorder<M: Machine> {
    /// Called once per move, after the target state is known and before it is entered.
    fn record(&mut self, from: M::StateId, event: M::EventId, to: M::StateId);
}

/// The recorder that records nothing: zero-sized, and free.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NoHistory;

impl<M: Machine> Recorder<M> for NoHistory {
    #[inline(always)]
    fn record(&mut self, _: M::StateId, _: M::EventId, _: M::StateId) {}
}

/// One recorded move: `#seq from --event--> to`.
pub struct Breadcrumb<M: Machine> {
    /// How many moves the recorder saw before this one (0 for the first).
    pub seq: u64,
    /// The state the move left.
    pub from: M::StateId,
    /// The event that took it.
    pub event: M::EventId,
    /// The state the move entered.
    pub to: M::StateId,
}

// Written by hand: a derive would ask for `M: Clone` etc., but `M` is only a name here.
impl<M: Machine> Clone for Breadcrumb<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M: Machine> Copy for Breadcrumb<M> {}

impl<M: Machine> PartialEq for Breadcrumb<M> {
    fn eq(&self, other: &Self) -> bool {
        (self.seq, self.from, self.event, self.to) == (other.seq, other.from, other.event, other.to)
    }
}

impl<M: Machine> Eq for Breadcrumb<M> {}

impl<M: Machine> fmt::Debug for Breadcrumb<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<M: Machine> fmt::Display for Breadcrumb<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {} --{}--> {}",
            self.seq, self.from, self.event, self.to
        )
    }
}

/// The last `N` moves of a machine, oldest first, in a fixed array.
///
/// Older moves are overwritten; [`History::total`] still counts them, and each
/// breadcrumb keeps its sequence number, so a gap at the front shows how much was lost.
///
/// ```
/// use fsm_core::{History, machine};
///
/// machine! {
///     pub Lamp {
///         initial: Off,
///         states: { Off, On },
///         edges: { Off + switch_on => On, On + switch_off => Off },
///     }
/// }
///
/// let lamp = Lamp::with_history((), lamp::Off, History::<lamp::Spec, 2>::new());
/// let lamp = lamp.switch_on().switch_off().switch_on();
/// assert_eq!(lamp.history().total(), 3);
/// assert_eq!(
///     lamp.history().to_string(),
///     "#1 On --switch_off--> Off\n#2 Off --switch_on--> On\n"
/// );
/// ```
pub struct History<M: Machine, const N: usize> {
    ring: [Option<Breadcrumb<M>>; N],
    total: u64,
}

impl<M: Machine, const N: usize> History<M, N> {
    /// An empty history with room for `N` breadcrumbs.
    pub const fn new() -> Self {
        History {
            ring: [None; N],
            total: 0,
        }
    }

    /// How many breadcrumbs are kept now (at most `N`).
    pub fn len(&self) -> usize {
        // Lossless: the count is capped by `N`, which is a `usize`.
        self.total.min(N as u64) as usize
    }

    /// Whether no move has been recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// How many moves were recorded in all, including those overwritten since.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The breadcrumbs kept, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Breadcrumb<M>> + '_ {
        let start = if N == 0 {
            0
        } else {
            (self.total % N as u64) as usize
        };
        let (newer, older) = self.ring.split_at(start);
        older.iter().chain(newer).filter_map(Option::as_ref)
    }

    /// The most recent breadcrumb.
    pub fn last(&self) -> Option<&Breadcrumb<M>> {
        self.iter().next_back()
    }

    /// Forgets every breadcrumb and resets the count.
    pub fn clear(&mut self) {
        *self = Self::new();
    }
}

impl<M: Machine, const N: usize> Recorder<M> for History<M, N> {
    #[inline]
    fn record(&mut self, from: M::StateId, event: M::EventId, to: M::StateId) {
        if N == 0 {
            return;
        }
        let seq = self.total;
        self.ring[(seq % N as u64) as usize] = Some(Breadcrumb {
            seq,
            from,
            event,
            to,
        });
        self.total += 1;
    }
}

impl<M: Machine, const N: usize> Default for History<M, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Machine, const N: usize> Clone for History<M, N> {
    fn clone(&self) -> Self {
        History {
            ring: self.ring,
            total: self.total,
        }
    }
}

/// One breadcrumb per line, oldest first.
impl<M: Machine, const N: usize> fmt::Display for History<M, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for crumb in self.iter() {
            writeln!(f, "{crumb}")?;
        }
        Ok(())
    }
}

impl<M: Machine, const N: usize> fmt::Debug for History<M, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("History")
            .field("total", &self.total)
            .field("kept", &crate::history::Crumbs(self))
            .finish()
    }
}

struct Crumbs<'a, M: Machine, const N: usize>(&'a History<M, N>);

impl<M: Machine, const N: usize> fmt::Debug for Crumbs<'_, M, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

#[cfg(feature = "alloc")]
impl<M: Machine> Recorder<M> for alloc::vec::Vec<Breadcrumb<M>> {
    fn record(&mut self, from: M::StateId, event: M::EventId, to: M::StateId) {
        let seq = self.len() as u64;
        self.push(Breadcrumb {
            seq,
            from,
            event,
            to,
        });
    }
}
