"""The boundary between the user's input and the models: argument checks and ingestion."""
