"""Offline training of the valence/arousal network: data, features, fitting, ONNX export.

Run ``music-emotion-train`` (:mod:`training.cli`); it writes
``<out>/<name>-<version>/{model.onnx,card.json}`` for :class:`app.model.EmotionModel`,
with the readable ``card.md`` and its PNG figures beside them.
Needs the ``train`` extra (torch, onnx, scikit-learn, tqdm, matplotlib).

The modules, in the order a run uses them:

- :mod:`training.datasets`: one loader per labelled dataset (and a user's CSV);
- :mod:`training.features`, :mod:`training.musicnn_features`: the service's features and
  musicnn's embeddings of many files, cached by content;
- :mod:`training.data`: labelled songs with their windows, crops and pooled statistics;
- :mod:`training.network`: the two-branch network, its in-graph pooling, the ensemble;
- :mod:`training.train`: the training configuration, the losses, per-song predictions;
- :mod:`training.baselines`, :mod:`training.metrics`: what the network is compared with,
  and how;
- :mod:`training.cross_validation`, :mod:`training.selection`: grouped k-fold scoring and
  the nested choice among candidate configurations;
- :mod:`training.export`: the ONNX graph and its parity with PyTorch;
- :mod:`training.card`, :mod:`training.card_page`, :mod:`training.plots`: the model card's
  JSON, its page and figures;
- :mod:`training.musicnn`, :mod:`training.musicnn_convert`: musicnn in PyTorch, and the
  one-off conversion of its TensorFlow weights (``training/weights/``) to ONNX.
"""
