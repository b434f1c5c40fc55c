//! A compact binary encoding of messages and entries, for transports and the file store.
//!
//! Integers are LEB128 varints, so a heartbeat takes a handful of bytes. Decoding never
//! panics: every malformed input is a [`DecodeError`].

use std::sync::Arc;

use thiserror::Error;

use crate::message::{AppendEntries, AppendReply, Body, Entry, EntryKind, Message, VoteReply};

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input ended in the middle of a value.
    #[error("input ends in the middle of {what}")]
    Truncated {
        /// What was being read.
        what: &'static str,
    },
    /// A tag byte names no known variant.
    #[error("unknown {what} tag {tag}")]
    BadTag {
        /// Which tag.
        what: &'static str,
        /// Its value.
        tag: u8,
    },
    /// A varint is longer than ten bytes or overflows 64 bits.
    #[error("varint overflows 64 bits")]
    VarintOverflow,
    /// A length is larger than the rest of the input.
    #[error("length {len} exceeds the {left} bytes left")]
    TooLong {
        /// The declared length.
        len: u64,
        /// The bytes that were left.
        left: usize,
    },
    /// Bytes remain after a complete message.
    #[error("{extra} bytes after the end of the message")]
    Trailing {
        /// How many.
        extra: usize,
    },
}

const REQUEST_VOTE: u8 = 1;
const VOTE_REPLY: u8 = 2;
const APPEND_ENTRIES: u8 = 3;
const APPEND_REPLY: u8 = 4;

impl Message {
    /// Appends the message's encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.from);
        put_varint(out, self.to);
        put_varint(out, self.term);
        match &self.body {
            Body::RequestVote {
                last_log_index,
                last_log_term,
            } => {
                out.push(REQUEST_VOTE);
                put_varint(out, *last_log_index);
                put_varint(out, *last_log_term);
            }
            Body::VoteReply(reply) => {
                out.push(VOTE_REPLY);
                put_varint(out, reply.voter());
                put_varint(out, reply.candidate());
                put_varint(out, reply.term());
                out.push(u8::from(reply.granted()));
            }
            Body::AppendEntries(append) => encode_append(append, out),
            Body::AppendReply(reply) => encode_append_reply(reply, out),
        }
    }

    /// The length of the encoding, without allocating.
    pub fn encoded_len(&self) -> usize {
        let header = varint_len(self.from) + varint_len(self.to) + varint_len(self.term) + 1;
        header
            + match &self.body {
                Body::RequestVote {
                    last_log_index,
                    last_log_term,
                } => varint_len(*last_log_index) + varint_len(*last_log_term),
                Body::VoteReply(r) => {
                    varint_len(r.voter()) + varint_len(r.candidate()) + varint_len(r.term()) + 1
                }
                Body::AppendEntries(a) => {
                    varint_len(a.prev_log_index)
                        + varint_len(a.prev_log_term)
                        + varint_len(a.leader_commit)
                        + varint_len(a.entries.len() as u64)
                        + a.entries.iter().map(Entry::encoded_len).sum::<usize>()
                }
                Body::AppendReply(AppendReply::Accepted { match_index }) => {
                    1 + varint_len(*match_index)
                }
                Body::AppendReply(AppendReply::Rejected {
                    prev_log_index,
                    conflict_term,
                    conflict_index,
                }) => {
                    1 + varint_len(*prev_log_index)
                        + 1
                        + conflict_term.map_or(0, varint_len)
                        + varint_len(*conflict_index)
                }
            }
    }

    /// Decodes one message that fills `bytes` exactly.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] when the bytes are truncated, malformed, or followed by more.
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        let mut r = Reader { bytes };
        let message = Message {
            from: r.varint()?,
            to: r.varint()?,
            term: r.varint()?,
            body: decode_body(&mut r)?,
        };
        r.finish()?;
        Ok(message)
    }
}

fn encode_append(append: &AppendEntries, out: &mut Vec<u8>) {
    out.push(APPEND_ENTRIES);
    put_varint(out, append.prev_log_index);
    put_varint(out, append.prev_log_term);
    put_varint(out, append.leader_commit);
    put_varint(out, append.entries.len() as u64);
    for entry in &append.entries {
        entry.encode(out);
    }
}

fn encode_append_reply(reply: &AppendReply, out: &mut Vec<u8>) {
    out.push(APPEND_REPLY);
    match *reply {
        AppendReply::Accepted { match_index } => {
            out.push(0);
            put_varint(out, match_index);
        }
        AppendReply::Rejected {
            prev_log_index,
            conflict_term,
            conflict_index,
        } => {
            out.push(1);
            put_varint(out, prev_log_index);
            match conflict_term {
                Some(term) => {
                    out.push(1);
                    put_varint(out, term);
                }
                None => out.push(0),
            }
            put_varint(out, conflict_index);
        }
    }
}

fn decode_body(r: &mut Reader<'_>) -> Result<Body, DecodeError> {
    match r.byte("message tag")? {
        REQUEST_VOTE => Ok(Body::RequestVote {
            last_log_index: r.varint()?,
            last_log_term: r.varint()?,
        }),
        VOTE_REPLY => {
            let (voter, candidate, term) = (r.varint()?, r.varint()?, r.varint()?);
            let granted = r.flag("vote granted")?;
            Ok(Body::VoteReply(VoteReply::from_wire(
                voter, candidate, term, granted,
            )))
        }
        APPEND_ENTRIES => decode_append(r).map(Body::AppendEntries),
        APPEND_REPLY => decode_append_reply(r).map(Body::AppendReply),
        tag => Err(DecodeError::BadTag {
            what: "message",
            tag,
        }),
    }
}

fn decode_append(r: &mut Reader<'_>) -> Result<AppendEntries, DecodeError> {
    let prev_log_index = r.varint()?;
    let prev_log_term = r.varint()?;
    let leader_commit = r.varint()?;
    let count = r.varint()?;
    // Each entry takes at least four bytes, so a count larger than that is a lie that
    // must not be trusted with an allocation.
    let count = r.bounded_len(count, 4)?;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        entries.push(Entry::decode_from(r)?);
    }
    Ok(AppendEntries {
        prev_log_index,
        prev_log_term,
        entries,
        leader_commit,
    })
}

fn decode_append_reply(r: &mut Reader<'_>) -> Result<AppendReply, DecodeError> {
    if !r.flag("append reply tag")? {
        return Ok(AppendReply::Accepted {
            match_index: r.varint()?,
        });
    }
    let prev_log_index = r.varint()?;
    let conflict_term = if r.flag("conflict term tag")? {
        Some(r.varint()?)
    } else {
        None
    };
    Ok(AppendReply::Rejected {
        prev_log_index,
        conflict_term,
        conflict_index: r.varint()?,
    })
}

impl Entry {
    /// Appends the entry's encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.term);
        put_varint(out, self.index);
        out.push(match self.kind {
            EntryKind::Command => 0,
            EntryKind::Noop => 1,
        });
        put_varint(out, self.data.len() as u64);
        out.extend_from_slice(&self.data);
    }

    /// The length of the encoding.
    pub fn encoded_len(&self) -> usize {
        varint_len(self.term)
            + varint_len(self.index)
            + 1
            + varint_len(self.data.len() as u64)
            + self.data.len()
    }

    /// Decodes one entry that fills `bytes` exactly.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] when the bytes are truncated, malformed, or followed by more.
    pub fn decode(bytes: &[u8]) -> Result<Entry, DecodeError> {
        let mut r = Reader { bytes };
        let entry = Entry::decode_from(&mut r)?;
        r.finish()?;
        Ok(entry)
    }

    fn decode_from(r: &mut Reader<'_>) -> Result<Entry, DecodeError> {
        let term = r.varint()?;
        let index = r.varint()?;
        let kind = match r.byte("entry kind")? {
            0 => EntryKind::Command,
            1 => EntryKind::Noop,
            tag => {
                return Err(DecodeError::BadTag {
                    what: "entry kind",
                    tag,
                });
            }
        };
        let len = r.varint()?;
        let len = r.bounded_len(len, 1)?;
        let data: Arc<[u8]> = Arc::from(r.take(len, "entry data")?);
        Ok(Entry {
            term,
            index,
            kind,
            data,
        })
    }
}

/// Appends `value` as a LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        // Truncation intended: the low seven bits, with the continuation bit set.
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// How many bytes `put_varint` writes for `value`.
pub(crate) fn varint_len(value: u64) -> usize {
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// A cursor over bytes that fails instead of panicking.
pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn byte(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let (&first, rest) = self
            .bytes
            .split_first()
            .ok_or(DecodeError::Truncated { what })?;
        self.bytes = rest;
        Ok(first)
    }

    fn flag(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        match self.byte(what)? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(DecodeError::BadTag { what, tag }),
        }
    }

    pub(crate) fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte("varint")?;
            let low = u64::from(byte & 0x7f);
            if shift == 63 && low > 1 {
                return Err(DecodeError::VarintOverflow);
            }
            value |= low << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::VarintOverflow)
    }

    pub(crate) fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if len > self.bytes.len() {
            return Err(DecodeError::Truncated { what });
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(head)
    }

    /// A count of items of at least `min_size` bytes each, checked against the input left.
    fn bounded_len(&self, count: u64, min_size: usize) -> Result<usize, DecodeError> {
        let left = self.bytes.len();
        match usize::try_from(count) {
            Ok(n) if n.saturating_mul(min_size) <= left => Ok(n),
            _ => Err(DecodeError::TooLong { len: count, left }),
        }
    }

    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.bytes.len() {
            0 => Ok(()),
            extra => Err(DecodeError::Trailing { extra }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64, data: &[u8]) -> Entry {
        Entry {
            term: 3,
            index,
            kind: EntryKind::Command,
            data: Arc::from(data),
        }
    }

    fn samples() -> Vec<Message> {
        let bodies = vec![
            Body::RequestVote {
                last_log_index: 7,
                last_log_term: 2,
            },
            Body::VoteReply(VoteReply::reject(2, 1, 5)),
            Body::VoteReply(VoteReply::from_wire(2, 1, 5, true)),
            Body::AppendEntries(AppendEntries {
                prev_log_index: 300,
                prev_log_term: 4,
                entries: vec![entry(301, b"x"), entry(302, &[0; 200])],
                leader_commit: u64::MAX,
            }),
            Body::AppendReply(AppendReply::Accepted { match_index: 9 }),
            Body::AppendReply(AppendReply::Rejected {
                prev_log_index: 9,
                conflict_term: Some(2),
                conflict_index: 4,
            }),
            Body::AppendReply(AppendReply::Rejected {
                prev_log_index: 9,
                conflict_term: None,
                conflict_index: 4,
            }),
        ];
        bodies
            .into_iter()
            .map(|body| Message {
                from: 1,
                to: 2,
                term: 5,
                body,
            })
            .collect()
    }

    #[test]
    fn messages_round_trip_and_report_their_length() {
        for message in samples() {
            let mut bytes = Vec::new();
            message.encode(&mut bytes);
            assert_eq!(bytes.len(), message.encoded_len(), "{message:?}");
            assert_eq!(Message::decode(&bytes), Ok(message));
        }
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        for message in samples() {
            let mut bytes = Vec::new();
            message.encode(&mut bytes);
            for len in 0..bytes.len() {
                assert!(Message::decode(&bytes[..len]).is_err());
            }
            bytes.push(0);
            assert_eq!(
                Message::decode(&bytes),
                Err(DecodeError::Trailing { extra: 1 })
            );
        }
    }

    #[test]
    fn a_huge_entry_count_is_refused_before_allocating() {
        let mut bytes = Vec::new();
        for value in [1, 2, 3] {
            put_varint(&mut bytes, value);
        }
        bytes.push(APPEND_ENTRIES);
        for value in [0, 0, 0, u64::MAX] {
            put_varint(&mut bytes, value);
        }
        assert!(matches!(
            Message::decode(&bytes),
            Err(DecodeError::TooLong { .. })
        ));
    }

    #[test]
    fn varints_cover_the_whole_range() {
        for value in [0, 1, 127, 128, 16_383, 16_384, u64::MAX / 3, u64::MAX] {
            let mut bytes = Vec::new();
            put_varint(&mut bytes, value);
            assert_eq!(bytes.len(), varint_len(value));
            assert_eq!(Reader { bytes: &bytes }.varint(), Ok(value));
        }
        let overflow = [0xff; 10];
        assert_eq!(
            Reader { bytes: &overflow }.varint(),
            Err(DecodeError::VarintOverflow)
        );
    }
}
