"""fastText's supervised text classifier as a torch.nn.Module (model.py), what it predicts
(predictions.py), its label tree for hierarchical softmax (tree.py) and its fastText .bin files
(files.py). Training it is an objective of the training stages (wordembed/training/classifier.py)."""
