"""Current and potential value, segments, the 12 customer types, CPV and PPV (pure).

DOMAIN.md §5. Each indicator is scored 0-10 from facts; a score is the weighted sum
of its indicators (weights sum to 100), so it is 0-100. Over the cut (default 70) is
high, otherwise low: a score of exactly 70 is *low* ("over 70 is high"). Two scores
give the segment; segment x phase gives one of 12 types.

How each indicator is estimated from the facts we have (no cost accounting, no
referral records yet):

* unit gross margin: realised price / list value of the hours delivered (paid amount
  over course price x (purchased + gifted hours)): discounts and gifted hours lower it.
* total purchase volume: money paid, net of refunds paid out, against a policy amount
  that scores 10.
* service cost (higher cost lowers it): complaints in the last year (2 points each)
  and contacts beyond a normal number in the last 90 days (0.5 each), off 10.
* satisfaction: the mean of the student's and the parent's latest survey (1-5 -> 0-10).
* loyalty: behavioural (renewals and tenure against policy caps) averaged with
  emotional ("would recommend", 0-10) when a survey gave it.
* trust: complaint-free year (credibility) averaged with the share of positive
  contacts in the last 180 days (benevolence) when there were contacts.
* word-of-mouth influence: "would recommend" (0-10; neutral 5 when unanswered) plus 2
  per referral, capped;
  `referral_count` comes from marketing.selectors.referral_figures (families referred
  by the student or a guardian).

CPV = spending capacity x share of wallet x unit margin (yuan of margin a year):
capacity = the family's yearly spend per subject with us x the subjects a student of
that age typically tutors (policy), share = subjects with us / those subjects, unit
margin = the policy's gross margin rate x the realised price ratio.
PPV = influence x reach x average purchase value of those influenced: influence =
recommend / 10, reach = the policy's people reached (DOMAIN.md §7: ~8) + referrals,
average purchase value = the branch's average first contract x the close rate (1 in 8).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _

from .periods import phase_of


class Segment(models.TextChoices):
    CORE = "core", _("Core (核心)")
    MAINTAIN = "maintain", _("Maintain (维持)")
    DEVELOP = "develop", _("Develop (发展)")
    ORDINARY = "ordinary", _("Ordinary (一般)")


PHASES = ("expected", "maintenance", "recovery")
CUSTOMER_TYPES: tuple[str, ...] = tuple(f"{s}.{p}" for s in Segment.values for p in PHASES)


@dataclass(slots=True)  # a value, but not frozen: see risk.RiskFigures
class ValueFigures:
    """The facts the value model reads for one account. None means 'no data'."""

    paid_total: float = 0.0  # yuan paid, net of refunds paid out
    list_value: float = 0.0  # course price x hours (purchased + gifted) of paid contracts
    contract_amount: float = 0.0  # amount (list - discount) of those contracts
    spend_365: float = 0.0  # yuan paid in the last 365 days
    subjects_365: int = 0  # distinct subjects bought in the last year / still active
    renewals: int = 0
    tenure_days: int | None = None  # since the first purchase of the relationship
    complaints_365: int = 0
    contacts_90: int = 0
    contacts_180: int = 0
    positive_contacts_180: int = 0
    student_satisfaction: float | None = None  # 1-5
    parent_satisfaction: float | None = None  # 1-5
    recommend: float | None = None  # 0-10, latest "would recommend"
    referral_count: int = 0  # families referred by the student or a guardian
    referral_converted: int = 0  # of those, families with a paid contract
    referral_revenue: float = 0.0  # yuan received from the converted ones
    branch_avg_first_purchase: float = 0.0  # yuan, the branch's average first contract


@dataclass(frozen=True)
class ValuePolicy:
    """Weights (each group sums to 100), the high/low cut and the calibration amounts."""

    high_cut: int = 70
    w_margin: int = 40
    w_volume: int = 40
    w_cost: int = 20
    w_satisfaction: int = 30
    w_loyalty: int = 30
    w_trust: int = 20
    w_influence: int = 20
    volume_full: float = 30000.0  # yuan paid that scores 10
    renewals_full: int = 3
    tenure_full_days: int = 730
    contacts_normal: int = 6  # contacts in 90 days that cost nothing extra
    wallet_subjects: int = 3
    gross_margin_rate: float = 0.45
    reach: float = 8.0
    close_rate: float = 0.125


@dataclass(slots=True)  # a value, but not frozen: see risk.RiskFigures
class ValueResult:
    current: int
    potential: int
    segment: str
    indicators: dict[str, float] = field(default_factory=dict)
    cpv: dict[str, float] = field(default_factory=dict)
    ppv: dict[str, float] = field(default_factory=dict)

    def customer_type(self, period: str) -> str:
        return customer_type(self.segment, period)

    def breakdown(self, policy: ValuePolicy) -> dict:
        """JSON kept with the score so the UI can show why."""
        return {"current": self.current, "potential": self.potential,
                "segment": self.segment, "cut": policy.high_cut,
                "indicators": self.indicators,
                "weights": {"margin": policy.w_margin, "volume": policy.w_volume,
                            "cost": policy.w_cost, "satisfaction": policy.w_satisfaction,
                            "loyalty": policy.w_loyalty, "trust": policy.w_trust,
                            "influence": policy.w_influence},
                "cpv": self.cpv, "ppv": self.ppv}


def _clip10(x: float) -> float:
    """round(max(0.0, min(10.0, x)), 2), the same value and type for every input (NaN
    too), without the two calls: this runs a dozen times per account every night."""
    return round(x, 2) if 0.0 < x < 10.0 else (0.0 if x <= 0.0 else 10.0)


def _sat10(sat: float | None) -> float | None:
    return None if sat is None else _clip10((sat - 1.0) / 4.0 * 10.0)


def _mean(a: float | None, b: float | None) -> float | None:
    """The mean of the two that are known (None when neither is); as sum() / len()."""
    if a is None:
        return None if b is None else 0.0 + b
    return 0.0 + a if b is None else (0.0 + a + b) / 2


def indicators(f: ValueFigures, p: ValuePolicy) -> dict[str, float]:
    """Every indicator on 0-10 (missing data scores 0 for current, 5 = neutral for potential)."""
    paid = f.paid_total > 0
    ratio = f.contract_amount / f.list_value if f.list_value > 0 else 0.0
    recommend = f.recommend
    complaints = f.complaints_365
    extra_contacts = f.contacts_90 - p.contacts_normal
    cost_load = 2.0 * complaints + 0.5 * (extra_contacts if extra_contacts > 0 else 0)
    behavioural = 0.5 * _clip10(10.0 * f.renewals / max(p.renewals_full, 1)) + 0.5 * _clip10(
        10.0 * (f.tenure_days or 0) / max(p.tenure_full_days, 1))
    emotional = None if recommend is None else _clip10(recommend)
    credibility = _clip10(10.0 - 2.5 * complaints)
    benevolence = (10.0 * f.positive_contacts_180 / f.contacts_180 if f.contacts_180 else None)
    sat = _mean(_sat10(f.student_satisfaction), _sat10(f.parent_satisfaction))
    # Referrals are word of mouth shown, not said: they add to the answer, or to the
    # neutral 5 when nobody answered "would recommend".
    influence = (None if recommend is None and not f.referral_count
                 else _clip10((5.0 if recommend is None else recommend)
                              + 2.0 * f.referral_count))
    return {
        "margin": _clip10(10.0 * ratio) if paid else 0.0,
        "volume": _clip10(10.0 * f.paid_total / p.volume_full) if p.volume_full else 0.0,
        "cost": _clip10(10.0 - cost_load) if paid else 0.0,
        "satisfaction": _clip10(sat) if sat is not None else 5.0,
        "loyalty": _clip10(_mean(behavioural, emotional) or 0.0),
        "trust": _clip10(_mean(credibility, benevolence) or 0.0),
        "influence": influence if influence is not None else 5.0,
    }


def is_high(score: int | float, cut: int) -> bool:
    """DOMAIN.md §5: over the cut is high; exactly the cut is low."""
    return score > cut


def segment_of(current: int | float, potential: int | float, cut: int) -> str:
    hc, hp = is_high(current, cut), is_high(potential, cut)
    if hc and hp:
        return Segment.CORE
    if hc:
        return Segment.MAINTAIN
    if hp:
        return Segment.DEVELOP
    return Segment.ORDINARY


def customer_type(segment: str, period: str) -> str:
    """One of the 12 types: '<segment>.<phase>', e.g. 'core.maintenance'."""
    return f"{segment}.{phase_of(period)}"


def value_score(f: ValueFigures, p: ValuePolicy) -> ValueResult:
    """Both scores (0-100), the segment, the indicator breakdown, CPV and PPV with inputs."""
    ind = indicators(f, p)
    current = round((p.w_margin * ind["margin"] + p.w_volume * ind["volume"]
                     + p.w_cost * ind["cost"]) / 10.0)
    potential = round((p.w_satisfaction * ind["satisfaction"] + p.w_loyalty * ind["loyalty"]
                       + p.w_trust * ind["trust"] + p.w_influence * ind["influence"]) / 10.0)
    current, potential = max(0, min(100, current)), max(0, min(100, potential))
    ratio = f.contract_amount / f.list_value if f.list_value > 0 else 0.0
    per_subject = f.spend_365 / max(f.subjects_365, 1)
    capacity = per_subject * max(p.wallet_subjects, 1)
    share = min(1.0, f.subjects_365 / max(p.wallet_subjects, 1))
    unit_margin = p.gross_margin_rate * ratio
    influence = min(1.0, (f.recommend or 0.0) / 10.0)
    reach = p.reach + f.referral_count
    avg_value = f.branch_avg_first_purchase * p.close_rate
    cpv = {"spending_capacity": round(capacity, 2), "share_of_wallet": round(share, 3),
           "unit_margin": round(unit_margin, 3),
           "value": round(capacity * share * unit_margin, 2)}
    ppv = {"influence": round(influence, 3), "reach": round(reach, 2),
           "avg_purchase_value": round(avg_value, 2), "referral_count": f.referral_count,
           "referral_converted": f.referral_converted,
           "referral_revenue": round(f.referral_revenue, 2),
           "value": round(influence * reach * avg_value, 2)}
    return ValueResult(current=current, potential=potential,
                       segment=segment_of(current, potential, p.high_cut),
                       indicators=ind, cpv=cpv, ppv=ppv)
