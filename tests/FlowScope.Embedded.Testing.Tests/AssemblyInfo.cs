// ActivityListeners and diagnostic listeners are process-wide: apps started by tests running at once would each record
// the others' database commands too.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
