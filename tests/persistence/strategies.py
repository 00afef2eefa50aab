"""Hypothesis strategies and settings shared by the codec tests."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from persistence.messages import MAX_PID, Action, ControlRequest, Intent, Record, Terminated, Wake

#: Deterministic (the same examples on every run), no deadline on a shared, loaded machine.
FUZZ = settings(
    derandomize=True,
    deadline=None,
    max_examples=300,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Any Unicode text: NUL, lone surrogates (what undecodable command-line bytes become), emoji.
ANY_CHARACTER = st.characters(exclude_categories=())
short_text = st.text(ANY_CHARACTER, max_size=200)
#: Text up to about 400,000 characters: a short run repeated.
long_text = st.builds(
    lambda run, times: run * times,
    st.text(ANY_CHARACTER, min_size=1, max_size=20),
    st.integers(min_value=1, max_value=20_000),
)
any_text = st.one_of(short_text, long_text, st.just("\x00"), st.just(""))
pids = st.integers(min_value=0, max_value=MAX_PID)
actions = st.sampled_from(Action)

records: st.SearchStrategy[Record] = st.one_of(
    st.just(Wake()),
    st.builds(Terminated, pids),
    st.builds(ControlRequest, actions, pids, st.none() | any_text),
    st.builds(Intent, actions, st.none() | any_text),
)
