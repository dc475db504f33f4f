using FlowScope.Samples.Messenger;

var app = MessengerApp.Create(args);
app.Run();

/// <summary>The sample's entry point (referenced by its tests).</summary>
public partial class Program;
