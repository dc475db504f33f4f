using FlowScope.Samples.Messenger;

var app = MessengerApp.Create(args);
if (app.Environment.IsDevelopment()) app.MapFlowScopeMcp(); // for coding agents: http://localhost:5080/_flowscope/mcp (docs/mcp.md)
app.Run();

/// <summary>The sample's entry point (referenced by its tests).</summary>
public partial class Program;
