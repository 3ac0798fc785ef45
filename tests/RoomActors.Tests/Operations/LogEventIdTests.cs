using System.Reflection;
using Microsoft.Extensions.Logging;

namespace RoomActors.Tests.Operations;

/// <summary>
/// Every log message of the project's assemblies has an event id of its own: a log shipper or an alert can key on the id,
/// so one id must mean one kind of message across the repository.
/// </summary>
public sealed class LogEventIdTests
{
    /// <summary>Every <c>[LoggerMessage]</c> method of the RoomActors assemblies the tests load (the libraries, hosts and samples).</summary>
    private static List<(string Assembly, string Method, int EventId)> LogMessages()
    {
        var directory = AppContext.BaseDirectory;
        var assemblies = Directory.GetFiles(directory, "RoomActors*.dll").Select(f => Assembly.LoadFrom(f)).ToList();
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        return
        [
            .. from assembly in assemblies
               from type in assembly.GetTypes()
               from method in type.GetMethods(all)
               let attribute = method.GetCustomAttribute<LoggerMessageAttribute>()
               where attribute is not null
               select (assembly.GetName().Name!, $"{type.FullName}.{method.Name}", attribute.EventId),
        ];
    }

    [Fact]
    public void Every_log_message_has_an_event_id_no_other_message_uses()
    {
        var messages = LogMessages();
        Assert.Contains(messages, m => m.Assembly == "RoomActors.Grains");
        Assert.Contains(messages, m => m.Assembly == "RoomActors.Gateway");
        Assert.True(messages.Count >= 25, $"found only {messages.Count} log messages: is the reflection still finding them?");

        Assert.All(messages, m => Assert.True(m.EventId > 0, $"{m.Method} ({m.Assembly}) has no event id: give it one in its assembly's range."));
        var shared = messages.GroupBy(m => m.EventId).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => $"{m.Method} ({m.Assembly})"))}").ToList();
        Assert.True(shared.Count == 0, "event ids used by more than one log message:\n" + string.Join('\n', shared));
    }
}
