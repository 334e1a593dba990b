"""The models of both cluster tasks: the Kosiba CNN and MobileNet, ResNet-18, conventional baselines."""
