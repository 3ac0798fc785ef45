using System.Text;
using Microsoft.Extensions.Options;

namespace RoomActors.Hosting;

/// <summary>Checks <see cref="OperatorOptions"/> at start: a key that is set must be long enough to be a secret.</summary>
internal sealed class OperatorOptionsValidator : IValidateOptions<OperatorOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, OperatorOptions options)
    {
        if (options.Enabled && Encoding.UTF8.GetByteCount(options.Key!) is var bytes and < OperatorOptions.MinKeyBytes)
        {
            return ValidateOptionsResult.Fail(
                $"{OperatorOptions.Section}:{nameof(OperatorOptions.Key)} has {bytes} bytes; use at least {OperatorOptions.MinKeyBytes} "
                + "(e.g. the output of `openssl rand -base64 32`), set through the environment (RoomActors__Operator__Key), "
                + "or remove it to turn the operator endpoints off.");
        }

        return ValidateOptionsResult.Success;
    }
}
