"""One module per stage. Each takes tables plus its typed policy and returns new tables
plus the findings/events it caused; only ``load`` reads and only ``publish`` writes."""
