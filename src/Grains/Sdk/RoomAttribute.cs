using System.Text.RegularExpressions;
using Orleans.Metadata;

namespace RoomActors;

/// <summary>
/// Registers a room class under a type name: clients reach it at <c>/rooms/{type}/{name}</c>.
/// <code>[Room("chat")] public sealed class ChatRoom : Room { … }</code>
/// </summary>
/// <remarks>The type name is 1–64 characters of <c>a-z 0-9 . _ -</c>. Each type name belongs to one class.</remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed partial class RoomAttribute : Attribute, IGrainTypeProviderAttribute, IGrainPropertiesProviderAttribute
{
    /// <summary>Registers the class as room type <paramref name="type"/>.</summary>
    public RoomAttribute(string type)
    {
        if (type is null || !TypeNamePattern().IsMatch(type))
        {
            throw new ArgumentException(
                $"Room type name '{type}' is invalid: use 1-64 characters of a-z, 0-9, '.', '_' or '-', e.g. [Room(\"chat\")].",
                nameof(type));
        }

        Type = type;
    }

    /// <summary>The room type name used in URLs.</summary>
    public string Type { get; }

    /// <inheritdoc />
    public GrainType GetGrainType(IServiceProvider services, Type type) => RoomGrainIds.GrainTypeOf(Type);

    /// <inheritdoc />
    public void Populate(IServiceProvider services, Type grainClass, GrainType grainType, Dictionary<string, string> properties)
    {
        // Published in the cluster manifest: gateways answer 426 for rooms without a request hook, activating nothing.
        properties[RoomGrainIds.HandlesHttpProperty] = Overrides(grainClass, "OnRequestAsync", typeof(RoomHttpRequest)) ? "true" : "false";
        properties[RoomGrainIds.BeforeConnectProperty] = Overrides(grainClass, "OnBeforeConnectAsync", typeof(BeforeConnectContext)) ? "true" : "false";
    }

    private static bool Overrides(Type grainClass, string hook, Type parameter)
    {
        var method = grainClass.GetMethod(hook, System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic, [parameter]);
        return method is not null && method.DeclaringType != typeof(Room);
    }

    [GeneratedRegex("^[a-z0-9._-]{1,64}$")]
    private static partial Regex TypeNamePattern();
}
