"""Page 12: hard-negative mining, so the model learns to answer "none of these"."""

from __future__ import annotations

import streamlit as st

from cvlib.training.hardneg import NONE_CLASS
from ui.common import (
    guarded,
    job_monitor,
    key,
    next_step,
    page_header,
    results_context,
    start_job,
)
from ui.datasets import dataset_picker
from ui.hardneg import (
    negatives_source,
    review_grid,
    round_confusions,
    rounds_figure,
    rounds_table,
)
from ui.models import save_model_form
from ui.training import training_settings

PAGE = "p12"
JOB = "hardneg-p12"

page_header("12 · Hard negatives",
            "Stop false alarms: teach the model what is none of your classes.", "🚫")

st.markdown(
    "A classifier only knows the classes it was taught. Its probabilities always add up to "
    "one, so shown something else (a hand, an empty shelf, a bag of chips) it still names "
    "one of your classes, often confidently: a **false positive**. The fix is to show it "
    "*negatives*, and the most useful ones are the **hard negatives**: the images it "
    "currently mistakes most confidently. Round 0 trains on your classes and, as the "
    "tutorial does, a few negatives picked at random. Then each round, the model scores a "
    "pool of negative "
    "images, you confirm the top-ranked ones really are none of your classes, they join "
    "training, and the model is retrained. Two ways to use them: a **background class** "
    f"(\"{NONE_CLASS}\") the model learns like any other, or a **confidence threshold** "
    "raised until most of them are rejected (no retraining, but sure-enough positives are "
    "rejected too). Progress is measured on negatives **held out** from mining (never "
    "trained on), and on your classes' fixed validation photos."
)

st.header("1 · Your classes")
dataset = dataset_picker(kind="single")
st.header("2 · Images that are none of them")
negatives = negatives_source(PAGE)

if dataset is not None and negatives:
    st.caption(f"{len(negatives)} negative images: a third are held out to measure on, "
               "the rest are the pool to mine from.")
    st.header("3 · Settings")
    c1, c2, c3, c4 = st.columns(4)
    strategy = c1.radio("Use confirmed negatives as", ["background", "threshold"],
                        horizontal=True, key=key(PAGE, "strategy"),
                        format_func={"background": f"a class: {NONE_CLASS}",
                                     "threshold": "a confidence threshold"}.get)
    threshold = c2.slider("Confidence needed to name a class", 0.3, 0.95, 0.5, 0.05,
                          key=key(PAGE, "threshold"),
                          help="Below it the app answers 'not sure / none of these'.")
    per_round = int(c3.number_input("Candidates to review per round", 4, 40, 10,
                                    key=key(PAGE, "per-round")))
    seeded = int(c4.number_input(
        "Negatives to start with", 0, 20, 5, key=key(PAGE, "seeded"),
        help="Picked at random from the pool before round 0, as the tutorial starts with "
             "a few negatives in its training set (it uses 10). 0: round 0 knows only "
             "your classes."))
    config = training_settings(PAGE, workshop={"architecture": "efficientnet_lite0",
                                               "image_size": 224, "mode": "quick"})

    def first_round(progress):
        """Round 0: your classes and the seeded negatives; then rank the pool for review."""
        from cvlib.training.hardneg import HardNegativeMiner

        miner = HardNegativeMiner(dataset, negatives, config, strategy=strategy,
                                  threshold=threshold, seed_negatives=seeded)
        miner.fit_round(progress)
        return {"miner": miner, "candidates": miner.candidates(per_round)}

    st.header("4 · Rounds")
    context = results_context(dataset, (config, strategy, threshold, seeded,
                                        sorted(str(path) for path in negatives)))
    if st.button("▶ Round 0: train on your classes and the first negatives", type="primary",
                 key=key(PAGE, "start"), help="Starts over with the settings above."):
        start_job(JOB, first_round, what="round 0, training on your classes",
                  context=context)
    state = job_monitor(JOB, context=context)

    if state is not None:
        miner = state["miner"]
        rounds = [r.to_dict() for r in miner.rounds]
        st.plotly_chart(rounds_figure(rounds), key=key(PAGE, "rounds"))
        st.dataframe(rounds_table(rounds), hide_index=True)
        last = miner.rounds[-1]
        st.markdown(
            f"Round {last.round}: the model names a class for **{last.fp_rate:.0%}** of "
            f"the {len(miner.negatives.holdout)} held-out negatives, and answers "
            f"**{last.positive_accuracy:.0%}** of your validation photos right.")
        st.markdown(
            "**Where the answers go, round by round.** Rows are the truth, columns the "
            f"answer. The last row, *{NONE_CLASS}*, is the held-out negatives: every count "
            "off its diagonal is a false alarm, a class named for something that is none "
            "of them. The last column collects every \"none of these\" answer; on one of "
            "your classes' rows it is a right photo wrongly rejected.")
        round_confusions(PAGE, rounds)

        candidates = state["candidates"]
        if candidates:
            st.subheader(f"Review: the {len(candidates)} most convincing mistakes")
            st.markdown("Ranked by the model's highest class probability. Untick any "
                        "image that *does* show one of your classes.")
            confirmed, rejected = review_grid(PAGE, candidates, last.round)

            def next_round(progress):
                """Add the confirmed negatives, retrain (or recalibrate), re-rank the pool."""
                miner.add_negatives(confirmed)
                miner.reject(rejected)
                miner.fit_round(progress)
                return {"miner": miner, "candidates": miner.candidates(per_round)}

            if st.button(f"➕ Add {len(confirmed)} negatives and retrain",
                         key=key(PAGE, "next"), disabled=not confirmed):
                start_job(JOB, next_round, what=f"round {last.round + 1}, retraining",
                          context=context)
        else:
            st.info("The pool is used up: add more negative images to mine further.")
        if miner.strategy == "threshold":
            st.caption(f"The saved model does not hold the threshold: use "
                       f"{miner.threshold:.2f} when you score with it.")
        guarded(save_model_form)(PAGE, miner.result)

next_step("pages/12_Hard_negatives.py", [
    "Run two or three rounds: the false-positive rate usually drops fastest in round 1.",
    "Switch to the threshold strategy and compare: which one keeps more right answers?",
    "Capture frames of your empty desk or your hand on page 00 and mine those.",
])
