global using FlowScope.Embedded.Testing;
global using FlowScope.Testing;
// ActivityListeners are process-wide: hosts started by different tests would see each other's spans.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
