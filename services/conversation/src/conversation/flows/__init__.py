"""One module per flow; each declares its states and what each input does in them."""
