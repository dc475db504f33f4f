// ActivityListeners and diagnostic listeners are process-wide: apps started by tests running at once could see each
// other's spans and database commands.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
