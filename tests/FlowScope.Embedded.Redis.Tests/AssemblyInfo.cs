global using FlowScope.Testing;
// ActivityListeners are process-wide and the fault tests kill and restart redis-server: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
