"""Offline training of the valence/arousal network: data, features, fitting, ONNX export.

Run ``music-emotion-train`` (:mod:`training.cli`); it writes
``model_store/<name>-<version>/{model.onnx,card.json}`` for :class:`app.model.EmotionModel`,
with the readable ``card.md`` and its PNG figures beside them.
Needs the ``train`` extra (torch, onnx, scikit-learn, tqdm, matplotlib).
"""
