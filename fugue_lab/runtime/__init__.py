"""How a model is run and recorded: traces, handlers, the memory layer and batched runs."""
