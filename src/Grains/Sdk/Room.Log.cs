using Microsoft.Extensions.Logging;

namespace RoomActors;

public abstract partial class Room
{
    private protected static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "Room {RoomType}/{RoomName}: a hook failed (connection {ConnectionId}).")]
        public static partial void HookFailed(ILogger logger, Exception exception, string roomType, string roomName, string? connectionId);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Room {RoomType}/{RoomName}: a delivery to a gateway could not be sent.")]
        public static partial void DeliveryFailed(ILogger logger, Exception exception, string roomType, string roomName);

        [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Room {RoomType}/{RoomName}: saving state failed; this turn's messages are dropped and the activation stops serving.")]
        public static partial void SaveFailed(ILogger logger, Exception exception, string roomType, string roomName);

        [LoggerMessage(EventId = 1005, Level = LogLevel.Debug, Message = "Room {RoomType}/{RoomName}: hibernating with {Count} connections.")]
        public static partial void Hibernating(ILogger logger, string roomType, string roomName, int count);

        [LoggerMessage(EventId = 1006, Level = LogLevel.Debug, Message = "Room {RoomType}/{RoomName}: alarm set for {ScheduledTime} rings (retry {RetryCount}).")]
        public static partial void AlarmRinging(ILogger logger, string roomType, string roomName, DateTimeOffset scheduledTime, int retryCount);

        [LoggerMessage(EventId = 1007, Level = LogLevel.Debug, Message = "Room {RoomType}/{RoomName}: the alarm hook failed; retry {RetryCount} at {At}.")]
        public static partial void AlarmRetry(ILogger logger, string roomType, string roomName, int retryCount, DateTimeOffset at);

        [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Room {RoomType}/{RoomName}: the alarm hook failed {RetryCount} times; the alarm is dropped.")]
        public static partial void AlarmDropped(ILogger logger, string roomType, string roomName, int retryCount);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Room {RoomType}/{RoomName}: {Count} gateways stopped renewing their lease; their connections are closed.")]
        public static partial void GatewaysLost(ILogger logger, string roomType, string roomName, int count);
    
        [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "Room {RoomType}/{RoomName}: gateway {Gateway} did not hand over its recent messages; going on without them.")]
        public static partial void FenceFailed(ILogger logger, Exception exception, string roomType, string roomName, GrainId gateway);

        [LoggerMessage(EventId = 1019, Level = LogLevel.Information, Message = "Room {RoomType}/{RoomName}: gateway {Gateway} did not hand over its recent messages (attempt {Attempt}); asking again.")]
        public static partial void FenceRetry(ILogger logger, Exception exception, string roomType, string roomName, GrainId gateway, int attempt);

        [LoggerMessage(EventId = 1010, Level = LogLevel.Debug, Message = "Room {RoomType}/{RoomName}: the next message number could not be saved at deactivation; the next activation skips ahead.")]
        public static partial void SeqSaveFailed(ILogger logger, Exception exception, string roomType, string roomName);

        [LoggerMessage(EventId = 1011, Level = LogLevel.Debug, Message = "Room {RoomType}/{RoomName}: {Count} connections were not resumed within the resume window; closing them.")]
        public static partial void ResumeExpired(ILogger logger, string roomType, string roomName, int count);

        [LoggerMessage(EventId = 1012, Level = LogLevel.Information, Message = "Room {RoomType}/{RoomName}: re-delivering {Count} messages that gateway {Gateway} lacked (another gateway had them when the room came back).")]
        public static partial void Redelivered(ILogger logger, string roomType, string roomName, int count, GrainId gateway);

        [LoggerMessage(EventId = 1013, Level = LogLevel.Warning, Message = "Room {RoomType}/{RoomName}: a call to another room or to the user directory failed; the next one still goes.")]
        public static partial void CallFailed(ILogger logger, Exception exception, string roomType, string roomName);

        [LoggerMessage(EventId = 1014, Level = LogLevel.Warning, Message = "Room {RoomType}/{RoomName}: left memory with {Count} calls to other rooms unsent (they did not go within 5 s).")]
        public static partial void CallsDropped(ILogger logger, int count, string roomType, string roomName);

        [LoggerMessage(EventId = 1015, Level = LogLevel.Warning, Message = "Room {RoomType}/{RoomName}: the state's record of an earlier version could not be cleared; it stays unused in storage.")]
        public static partial void LegacyStateNotCleared(ILogger logger, Exception exception, string roomType, string roomName);

        [LoggerMessage(EventId = 1016, Level = LogLevel.Debug, Message = "Room {RoomType}/{RoomName}: empty, without an alarm and idle for {IdleCollectAfter} (RoomActors:Rooms:IdleCollectAfter); leaving memory.")]
        public static partial void IdleCollected(ILogger logger, string roomType, string roomName, TimeSpan idleCollectAfter);

        [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Room {RoomType}/{RoomName}: an operator ({RequestedBy}) asked it to hibernate ({Count} connections): {Outcome}.")]
        public static partial void OperatorHibernate(ILogger logger, string roomType, string roomName, string requestedBy, int count, HibernateOutcome outcome);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Room {RoomType}/{RoomName}: an operator ({RequestedBy}) closed connection {ConnectionId} ({Code} {Reason}).")]
        public static partial void OperatorClose(ILogger logger, string roomType, string roomName, string requestedBy, string connectionId, int code, string reason);
    }
}
