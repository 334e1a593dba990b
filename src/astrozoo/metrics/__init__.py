"""Built-in metrics. They register through the same hooks as any plugin's."""
