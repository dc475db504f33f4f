using System.Diagnostics;
using System.Globalization;
using FlowScope.Embedded.Queues;
using FlowScope.Embedded.Steps;
using FlowScope.Embedded.Workers;

namespace FlowScope.Samples.Messenger.Pipeline;

/// <summary>
/// Handles the <c>bot</c> queue: answers <c>/commands</c>. The answer is decided in steps recorded with FlowScope's
/// custom-step API (parse → choose → answer), then posted to the room through the same pipeline as any message, so
/// the reply's delivery joins the command's trace.
/// </summary>
internal sealed class BotWorker(IWorkerScope<BotWorker> worker, MessageIntake intake) : IQueueHandler<BotCommand>
{
    public const string UserName = "bot";

    public async Task HandleAsync(BotCommand command, QueueMessageContext context, CancellationToken cancellationToken)
    {
        using var work = worker.StartUnitOfWork("answer command", Activity.Current?.Context ?? default);
        work.Activity?.SetTag("messenger.room", command.Room);
        var reply = BotBrain.Answer(command.Text, command.Author, Random.Shared);
        var result = await intake.AcceptAsync(UserName, command.Room, reply, clientId: null, system: true, cancellationToken);
        if (result.ErrorCode is not null && result.Message is null)
        {
            var error = new InvalidOperationException($"The bot's reply was refused: {result.ErrorCode}.");
            work.Fail(error);
            throw error;
        }
    }
}

/// <summary>The bot's decision, step by step.</summary>
internal static class BotBrain
{
    public static readonly IReadOnlyDictionary<string, string> Commands = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["help"] = "lists the commands",
        ["roll"] = "rolls dice: /roll 2d6",
        ["weather"] = "a forecast (made up): /weather Lisbon",
        ["time"] = "the server's time (UTC)",
        ["flip"] = "flips a coin",
    };

    private static readonly string[] Skies = ["sunny", "cloudy", "light rain", "thunderstorms", "fog", "snow", "windy", "clear"];

    public static string Answer(string text, string author, Random random)
    {
        string command;
        string[] args;
        using (var parse = FlowScopeSteps.Start("parse command"))
        {
            parse.Observe("text", text);
            var parts = text.TrimStart('/').Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            command = parts.Length == 0 ? "" : parts[0].ToLowerInvariant();
            args = parts.Length > 1 ? parts[1..] : [];
            parse.Observe("command", command);
            parse.Observe("arguments", args.Length);
            parse.Decide(command.Length == 0 ? "empty" : "parsed");
        }

        string handler;
        using (var choose = FlowScopeSteps.Start("choose handler"))
        {
            choose.Observe("known", string.Join(",", Commands.Keys));
            choose.Observe("author", author);
            if (Commands.ContainsKey(command))
            {
                handler = command;
                choose.Decide(handler, "exact match");
            }
            else
            {
                var close = Commands.Keys.FirstOrDefault(k => command.Length > 1 && k.StartsWith(command, StringComparison.Ordinal));
                handler = close ?? "unknown";
                choose.Decide(handler, close is null ? $"no command '{command}'" : $"prefix of '{close}'");
            }
        }

        using var answer = FlowScopeSteps.Start("compose answer");
        answer.Observe("handler", handler);
        var reply = handler switch
        {
            "help" => "Commands: " + string.Join(" · ", Commands.Select(c => $"/{c.Key} — {c.Value}")),
            "roll" => Roll(args, random, answer),
            "weather" => Weather(args, answer),
            "time" => $"It is {DateTimeOffset.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} UTC.",
            "flip" => random.Next(2) == 0 ? "Heads." : "Tails.",
            _ => $"I don't know /{Short(command)}. Try /help.",
        };
        answer.Observe("reply", reply);
        answer.Decide("reply", handler);
        return $"@{author} {reply}";
    }

    private static string Roll(string[] args, Random random, FlowScopeStep step)
    {
        var spec = args.Length > 0 ? args[0].ToLowerInvariant() : "1d6";
        var parts = spec.Split('d');
        if (parts.Length != 2
            || !int.TryParse(parts[0].Length == 0 ? "1" : parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var sides)
            || count is < 1 or > 20 || sides is < 2 or > 1000)
        {
            step.Observe("invalid", spec);
            return $"'{Short(spec)}' is not a roll I can make: use NdM with N ≤ 20 and 2 ≤ M ≤ 1000, e.g. /roll 2d6.";
        }

        var rolls = Enumerable.Range(0, count).Select(_ => random.Next(1, sides + 1)).ToArray();
        step.Observe("dice", spec);
        step.Observe("rolls", string.Join(",", rolls));
        return count == 1 ? $"🎲 {rolls[0]}" : $"🎲 {string.Join(" + ", rolls)} = {rolls.Sum()}";
    }

    private static string Weather(string[] args, FlowScopeStep step)
    {
        var city = args.Length > 0 ? string.Join(' ', args) : "Nowhere";
        // Made up, but stable for a day: the same city gets the same forecast.
        var seed = StableHash(city.ToLowerInvariant()) ^ DateTime.UtcNow.DayOfYear;
        var local = new Random(seed);
        var sky = Skies[local.Next(Skies.Length)];
        var temperature = local.Next(-5, 36);
        step.Observe("city", city);
        step.Observe("sky", sky);
        step.Observe("temperature", temperature);
        return $"Forecast for {Short(city)}: {sky}, {temperature} °C. (Entirely made up.)";
    }

    private static int StableHash(string value)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash & 0x7FFFFFFF);
    }

    private static string Short(string value) => value.Length <= 30 ? value : value[..30] + "…";
}
