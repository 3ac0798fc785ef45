namespace RoomActors.Tests.Sdk;

/// <summary>What the room base class guarantees by its shape.</summary>
public sealed class RoomShapeTests
{
    [Fact]
    public void A_room_cannot_skip_the_SDK_setup_by_overriding_activation()
    {
        // Sealed: a subclass's OnActivateAsync does not compile, so storage, connections, state and alarms are always
        // loaded before OnStartAsync; rooms start in OnStartAsync.
        var activate = typeof(Room).GetMethod(nameof(Room.OnActivateAsync))!;
        Assert.True(activate.IsFinal && activate.IsVirtual, "Room.OnActivateAsync must stay sealed");
    }
}
