"""Plain ``torch.nn.Module`` definitions of the learned plug-ins (imported only when used)."""
