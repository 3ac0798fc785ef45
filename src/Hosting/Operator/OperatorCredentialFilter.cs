using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace RoomActors.Hosting;

/// <summary>
/// The one check in front of every operator endpoint (an endpoint filter on the <c>/operator</c> route group): the key
/// unset answers 403 saying how to set it; a missing or wrong credential 401 with a Basic challenge (so a browser asks);
/// the key as <c>Authorization: Bearer KEY</c> or Basic <c>operator:KEY</c> passes. The comparison is of SHA-256 digests
/// with <see cref="CryptographicOperations.FixedTimeEquals"/>: its time depends neither on where the bytes differ nor on
/// the length of the key. A POST from another site (a browser sends Basic credentials along) is refused.
/// </summary>
internal sealed partial class OperatorCredentialFilter(IOptions<OperatorOptions> options, ILogger<OperatorCredentialFilter> logger) : IEndpointFilter
{
    /// <summary>The challenge of a 401.</summary>
    public const string Challenge = "Basic realm=\"RoomActors operator\"";

    public const string NotConfigured =
        "The operator endpoints are off. Set RoomActors:Operator:Key (at least 32 bytes; a secret, so through the environment: "
        + "RoomActors__Operator__Key=...) on this process to turn them on, then authenticate with Authorization: Bearer KEY "
        + "or HTTP Basic as user 'operator' with the key as password.";

    public const string Unauthorized =
        "Operator credential missing or wrong: send Authorization: Bearer KEY, or HTTP Basic as user 'operator' with KEY as "
        + "password, where KEY is this process's RoomActors:Operator:Key.";

    private readonly byte[]? _keyDigest = options.Value.Enabled ? SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.Key!)) : null;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (_keyDigest is null)
        {
            Log.Refused(logger, "no key configured", http.Request.Method, http.Request.Path.ToString(), http.Connection.RemoteIpAddress?.ToString());
            return Results.Text(NotConfigured, "text/plain; charset=utf-8", statusCode: StatusCodes.Status403Forbidden);
        }

        if (Check(http.Request.Headers.Authorization.ToString()) is { } refusal)
        {
            Log.Refused(logger, refusal, http.Request.Method, http.Request.Path.ToString(), http.Connection.RemoteIpAddress?.ToString());
            http.Response.Headers.WWWAuthenticate = Challenge;
            return Results.Text(Unauthorized, "text/plain; charset=utf-8", statusCode: StatusCodes.Status401Unauthorized);
        }

        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method) && IsCrossSite(http.Request))
        {
            Log.Refused(logger, "cross-site request", http.Request.Method, http.Request.Path.ToString(), http.Connection.RemoteIpAddress?.ToString());
            return Results.Text("A request from another site's page cannot change anything here; send it from the operator pages, curl or a script.",
                "text/plain; charset=utf-8", statusCode: StatusCodes.Status403Forbidden);
        }

        return await next(context);
    }

    /// <summary>Null when <paramref name="authorization"/> carries the key; else why not (for the log, never the client).</summary>
    private string? Check(string authorization)
    {
        string presented;
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = authorization["Bearer ".Length..].Trim();
        }
        else if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            string pair;
            try
            {
                pair = Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..].Trim()));
            }
            catch (FormatException)
            {
                return "malformed Basic credential"; // refused like a wrong one
            }

            var colon = pair.IndexOf(':');
            if (colon < 0 || pair[..colon] != OperatorOptions.BasicUser)
            {
                return "Basic credential for another user";
            }

            presented = pair[(colon + 1)..];
        }
        else
        {
            return authorization.Length == 0 ? "no credential" : "unknown authorization scheme";
        }

        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _keyDigest) ? null : "wrong key";
    }

    /// <summary>True when a browser says the request comes from another site's page (Sec-Fetch-Site, or an Origin of another host).</summary>
    private static bool IsCrossSite(HttpRequest request)
    {
        if (request.Headers["Sec-Fetch-Site"].ToString() is "cross-site" or "same-site")
        {
            return true;
        }

        var origin = request.Headers[HeaderNames.Origin].ToString();
        return origin.Length > 0
            && (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || !string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, Level = LogLevel.Debug, Message = "Operator request {Method} {Path} from {Remote} refused: {Reason}.")]
        public static partial void Refused(ILogger logger, string reason, string method, string path, string? remote);
    }
}
