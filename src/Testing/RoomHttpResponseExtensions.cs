using System.Text;

namespace RoomActors.Testing;

/// <summary>Reading a room's HTTP answer in a test.</summary>
public static class RoomHttpResponseExtensions
{
    /// <summary>The body decoded as UTF-8.</summary>
    /// <param name="response">The room's answer.</param>
    public static string BodyText(this RoomHttpResponse response) => Encoding.UTF8.GetString(response.Body);
}
