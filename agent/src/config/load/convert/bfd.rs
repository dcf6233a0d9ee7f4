//! `[[bfd]]` tables into [`BfdSession`]s.

use toml::Spanned;

use super::Converter;
use crate::config::diagnostic::{FieldPath, Item};
use crate::config::load::schema::RawBfd;
use crate::config::model::{BfdSession, Weight};

impl Converter<'_> {
    /// Returns `None` when a value is unusable (its error is recorded).
    pub(super) fn bfd(&mut self, item: Item, raw: Spanned<RawBfd>) -> Option<BfdSession> {
        self.record(FieldPath::item(item), raw.span().start);
        let raw = raw.into_inner();
        let errors_before = self.errors.len();
        let name = self.at(item, "name", raw.name);
        let neighbor = self.at(item, "neighbor", raw.neighbor).0;
        let source = raw.source.map(|v| self.at(item, "source", v).0);
        let interface = raw.interface.map(|v| self.at(item, "interface", v));
        let min_rx = self.duration(
            item,
            "min_rx",
            raw.min_rx.as_ref(),
            BfdSession::DEFAULT_MIN_RX,
        );
        let min_tx = self.duration(
            item,
            "min_tx",
            raw.min_tx.as_ref(),
            BfdSession::DEFAULT_MIN_TX,
        );
        let idle_tx = self.duration(
            item,
            "idle_tx",
            raw.idle_tx.as_ref(),
            BfdSession::DEFAULT_IDLE_TX,
        );
        let multiplier = self.byte(
            item,
            "multiplier",
            raw.multiplier,
            1,
            BfdSession::DEFAULT_MULTIPLIER,
        );
        let ttl = self.byte(item, "ttl", raw.ttl, 1, BfdSession::DEFAULT_TTL);
        let max_hops = self.byte(item, "max_hops", raw.max_hops, 0, 0);
        let passive = self.flag(item, "passive", raw.passive, false);
        let reverse = self.flag(item, "reverse", raw.reverse, false);
        let weight = match raw.weight {
            None => Weight::FAULT,
            Some(weight) => {
                let start = weight.span().start;
                let value = self.at(item, "weight", weight);
                self.weight_at(start, Some(value), Weight::FAULT)?
            }
        };
        (self.errors.len() == errors_before).then_some(BfdSession {
            name,
            neighbor,
            source,
            interface,
            min_rx,
            min_tx,
            idle_tx,
            multiplier,
            passive,
            ttl,
            max_hops,
            weight,
            reverse,
        })
    }

    /// A number of 8 bits at least `low`, or `default` when absent.
    fn byte(
        &mut self,
        item: Item,
        key: &'static str,
        raw: Option<Spanned<i64>>,
        low: u8,
        default: u8,
    ) -> u8 {
        let Some(raw) = raw else {
            return default;
        };
        self.record(FieldPath::key(item, key), raw.span().start);
        self.ranged(&raw, i64::from(low)..=255, key, "a number")
            .map_or(default, |v| v as u8)
    }
}
