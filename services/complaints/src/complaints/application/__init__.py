"""The complaints service's use cases: commands on complaints, read models, the overdue watcher, and the
policy that follows the mediation service's decisions."""
