"""Where the pipeline's results are stored for the API: ClickHouse, through clickhouse-connect."""
