using System.Security.Cryptography;
using System.Text;

namespace RoomActors;

/// <summary>The room keeps a hash of each connection's resume secret, never the secret, and compares in fixed time.</summary>
internal static class ResumeSecrets
{
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static bool Matches(string secret, byte[]? hash) =>
        hash is not null && CryptographicOperations.FixedTimeEquals(Hash(secret), hash);
}
