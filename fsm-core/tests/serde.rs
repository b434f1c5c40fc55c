//! Persisting the run-time enum: it round-trips, and bad input is a typed error.

#![cfg(feature = "serde")]

use fsm_core::{History, machine};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub owner: String,
    pub balance: i64,
}

machine! {
    /// An account that can be frozen with a reason.
    pub Ledger {
        context: Account,
        initial: Active,
        serde: true,
        states: {
            Active,
            #[derive(Debug, PartialEq, Serialize, Deserialize)]
            Frozen { reason: String },
        },
        edges: { Active + freeze => Frozen, Frozen + thaw => Active },
    }
}

fn frozen() -> ledger::Runtime {
    let account = Account {
        owner: "ada".into(),
        balance: 12,
    };
    let typed = Ledger::new(account, ledger::Active).freeze(ledger::Frozen {
        reason: "audit".into(),
    });
    typed.into()
}

#[test]
fn the_run_time_enum_round_trips_through_json() {
    let json = serde_json::to_string(&frozen()).unwrap();
    assert_eq!(
        json,
        r#"{"Frozen":{"context":{"owner":"ada","balance":12},"state":{"reason":"audit"}}}"#
    );

    let back: ledger::Runtime = serde_json::from_str(&json).unwrap();
    assert_eq!(back.state_id(), ledger::StateId::Frozen);
    assert_eq!(back.context().balance, 12);
    let back = back.fire(ledger::Event::Thaw).unwrap();
    assert_eq!(back.state_id(), ledger::StateId::Active);
}

#[test]
fn an_unknown_state_is_a_typed_error() {
    let err = serde_json::from_str::<ledger::Runtime>(
        r#"{"Closed":{"context":{"owner":"a","balance":0}}}"#,
    )
    .unwrap_err();
    assert!(err.is_data(), "{err}");
    assert!(
        err.to_string().contains("unknown variant `Closed`"),
        "{err}"
    );
}

#[test]
fn malformed_data_is_a_typed_error() {
    let missing = r#"{"Frozen":{"context":{"owner":"a","balance":0}}}"#;
    let err = serde_json::from_str::<ledger::Runtime>(missing).unwrap_err();
    assert!(err.to_string().contains("missing field `state`"), "{err}");

    let truncated = r#"{"Active":{"context":{"owner":"a","#;
    assert!(
        serde_json::from_str::<ledger::Runtime>(truncated)
            .unwrap_err()
            .is_eof()
    );
}

#[test]
fn a_restored_machine_starts_with_an_empty_history() {
    let json = serde_json::to_string(&frozen()).unwrap();
    let back: ledger::Runtime<History<ledger::Spec, 4>> = serde_json::from_str(&json).unwrap();
    assert!(back.history().is_empty());
}
